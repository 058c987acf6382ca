// Package python holds no Go code: its test runs the Python client's unittest
// suite (clients/python/tests) against a real `quotad serve`, so that `make
// test` covers the client. See docs/python.md.
package python
