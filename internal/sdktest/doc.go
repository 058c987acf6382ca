// Package sdktest drives the providers' official SDKs — npm openai,
// groq-sdk and @googleapis/youtube, and where Debian packages them Python's
// google-api-python-client and requests — through a real `quotad serve`
// against internal/fakeprovider, each SDK configured with nothing but the
// endpoint setting its own documentation names. Its tests need Node.js and
// `npm ci` in testdata (the .ci/run script does it); they skip, saying so,
// without them.
package sdktest
