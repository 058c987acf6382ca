// llm.mjs SDK BASE_URL MODE [MODEL]: one call with the openai or groq-sdk
// package, configured with nothing but its documented baseURL setting.
// Prints one JSON line: {ok, tokens, status, error, headers, ms}.
import OpenAI from 'openai';
import Groq from 'groq-sdk';

const [sdk, baseURL, mode, model = 'llama-3.3-70b-versatile'] = process.argv.slice(2);
const opts = { baseURL, apiKey: sdk === 'groq' ? 'gsk_test_key_0123456789' : 'sk-test-key-0123456789' };
if (process.env.MAX_RETRIES) opts.maxRetries = Number(process.env.MAX_RETRIES);
const client = sdk === 'groq' ? new Groq(opts) : new OpenAI(opts);
const messages = [{ role: 'user', content: 'Write a title for a video about fast language models' }];
const out = { sdk, mode };
const start = Date.now();
try {
  if (mode === 'stream') {
    const params = { model, messages, stream: true };
    if (sdk === 'openai') params.stream_options = { include_usage: true };
    const stream = await client.chat.completions.create(params);
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices?.[0]?.delta?.content ?? '';
      if (chunk.usage) out.tokens = chunk.usage.total_tokens;
      if (chunk.x_groq?.usage) out.tokens = chunk.x_groq.usage.total_tokens;
    }
    out.text = text;
  } else {
    const r = await client.chat.completions.create({ model, messages });
    out.tokens = r.usage.total_tokens;
    out.text = r.choices[0].message.content;
  }
  out.ok = true;
} catch (e) {
  out.ok = false;
  out.status = e.status;
  out.error = String(e.message);
  out.headers = e.headers ? Object.fromEntries(e.headers.entries ? e.headers.entries() : Object.entries(e.headers)) : {};
}
out.ms = Date.now() - start;
console.log(JSON.stringify(out));
