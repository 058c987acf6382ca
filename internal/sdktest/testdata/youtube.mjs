// youtube.mjs ROOT MODE: calls with @googleapis/youtube configured with
// nothing but its documented rootUrl option: MODE "global" sets it once on
// the client (the SDK then keeps only its origin), "percall" passes it with
// every call (uploads need this: the SDK does not apply a global rootUrl
// to media uploads). "refused" makes one search.list call that should fail;
// "lists" makes the list calls but search.list (global rootUrl).
// Prints one JSON line.
import { youtube } from '@googleapis/youtube';
import { Readable } from 'node:stream';

const [root, mode] = process.argv.slice(2);
const auth = 'AIzaSyTestKey0123456789abcdefghijklmno';
const global = mode === 'global' || mode === 'lists';
const yt = global ? youtube({ version: 'v3', auth, rootUrl: root }) : youtube({ version: 'v3', auth });
const o = global ? {} : { rootUrl: root };
const out = { mode };
try {
  if (mode !== 'lists') {
    const s = await yt.search.list({ part: ['snippet'], q: 'fast language models', maxResults: 2 }, o);
    out.search = s.data.items.length;
  }
  if (mode !== 'refused') {
    const v = await yt.videos.list({ part: ['id'], id: ['fakeVid0001'] }, o);
    out.videos = v.data.items.length;
    const c = await yt.channels.list({ part: ['id'], mine: true }, o);
    out.channels = c.data.items.length;
    const p = await yt.playlistItems.list({ part: ['snippet'], playlistId: 'PLfake' }, o);
    out.playlistItems = p.data.items.length;
  }
  if (mode === 'percall') {
    const up = await yt.videos.insert({
      part: ['snippet', 'status'],
      requestBody: { snippet: { title: 'Fast models, explained' }, status: { privacyStatus: 'private' } },
      media: { mimeType: 'video/mp4', body: Readable.from([Buffer.from('fake mp4 bytes '.repeat(1000))]) },
    }, o);
    out.uploaded = up.data.id;
    out.title = up.data.snippet?.title;
  }
  out.ok = true;
} catch (e) {
  out.ok = false;
  out.code = e.code;
  out.status = e.status ?? e.response?.status;
  out.reason = e.errors?.[0]?.reason ?? e.response?.data?.error?.errors?.[0]?.reason;
  out.error = String(e.message);
}
console.log(JSON.stringify(out));
