// tsdav 2.3.4 driven against a running CardDAV server (conformance/run.sh, suite "tsdav").
//
// Reads DAV_URL, DAV_USER, DAV_PASS. Uses only tsdav's public API, the way a web or Node app
// would: discovery (DAVClient.login → principal, home set), fetchAddressBooks, fetchVCards
// (addressbook-multiget), createVCard (If-None-Match: *), isCollectionDirty (getctag),
// updateVCard (If-Match), a stale If-Match (412), syncCollection / smartCollectionSync from the
// sync-token of the PROPFIND, deleteVCard. Prints `[PASS] name` / `[FAIL] name: why` per check;
// exit status 1 when any failed. Needs NODE_PATH pointing at the node_modules holding tsdav.
'use strict';

const tsdav = require('tsdav');
const crypto = require('node:crypto');

const BASE = process.env.DAV_URL;
const credentials = { username: process.env.DAV_USER, password: process.env.DAV_PASS };
const state = {};
let failed = 0;

class Fail extends Error {}
function expect(cond, msg) {
  if (!cond) throw new Fail(msg);
}

async function check(name, fn) {
  try {
    await fn();
    console.log(`[PASS] ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`[FAIL] ${name}: ${e instanceof Fail ? e.message : (e && e.stack) || e}`);
  }
}

function vcard(uid, fn, extra = '') {
  return ['BEGIN:VCARD', 'VERSION:3.0', `UID:${uid}`, `FN:${fn}`, `N:${fn};;;;`]
    .concat(extra ? [extra] : [])
    .concat(['END:VCARD', ''])
    .join('\r\n');
}

const sameUrl = (a, b) => new URL(a, BASE).pathname === new URL(b, BASE).pathname;

async function main() {
  let client;
  await check('tsdav_login_discovers_principal_and_home', async () => {
    const c = new tsdav.DAVClient({
      serverUrl: BASE,
      credentials,
      authMethod: 'Basic',
      defaultAccountType: 'carddav',
    });
    await c.login();
    client = c;
    const acc = client.account;
    expect(acc && acc.principalUrl, `no principal URL (account ${JSON.stringify(acc)})`);
    expect(acc.homeUrl, `no address-book home (account ${JSON.stringify(acc)})`);
    state.account = acc;
  });
  if (!client) return;

  await check('tsdav_fetch_address_books', async () => {
    const books = await client.fetchAddressBooks();
    expect(books.length >= 1, 'no address books');
    const book = books.find((b) => /\/contacts\/$/.test(b.url)) || books[0];
    expect(book.ctag || book.syncToken, `book ${book.url} has neither getctag nor sync-token`);
    expect(book.syncToken, `book ${book.url} has no sync-token (RFC 6578)`);
    expect(book.displayName, `book ${book.url} has no displayname`);
    state.book = book;
  });
  if (!state.book) return;

  await check('tsdav_fetch_vcards_multiget', async () => {
    const cards = await client.fetchVCards({ addressBook: state.book });
    for (const c of cards) {
      expect(typeof c.data === 'string' && c.data.includes('BEGIN:VCARD'), `${c.url}: no vCard data`);
      expect(c.etag, `${c.url}: no etag`);
    }
    state.initialCount = cards.length;
    state.book.objects = cards;
  });

  const uid = `tsdav-${crypto.randomUUID()}`;
  const filename = `${uid}.vcf`;
  await check('tsdav_create_vcard', async () => {
    const res = await client.createVCard({
      addressBook: state.book,
      filename,
      vCardString: vcard(uid, 'Tsdav Created', 'EMAIL;TYPE=INTERNET:tsdav@example.com'),
    });
    expect(res.status === 201, `createVCard answered ${res.status} ${await res.text()}`);
    const [card] = await client.fetchVCards({
      addressBook: state.book,
      objectUrls: [new URL(filename, state.book.url).href],
    });
    expect(card && card.data.includes(`UID:${uid}`), `created card not fetched back: ${JSON.stringify(card)}`);
    expect(card.data.includes('tsdav@example.com'), 'EMAIL lost');
    state.card = card;
  });

  await check('tsdav_create_again_is_412', async () => {
    const res = await client.createVCard({ addressBook: state.book, filename, vCardString: vcard(uid, 'Twice') });
    expect(res.status === 412, `second create with If-None-Match: * answered ${res.status}`);
  });

  await check('tsdav_ctag_changes_after_create', async () => {
    const { isDirty, newCtag } = await client.isCollectionDirty({ collection: state.book });
    expect(isDirty, `getctag unchanged (${state.book.ctag} → ${newCtag})`);
  });

  await check('tsdav_update_with_if_match', async () => {
    expect(state.card, 'no card created');
    const data = state.card.data.replace('FN:Tsdav Created', 'FN:Tsdav Updated');
    const res = await client.updateVCard({ vCard: { ...state.card, data } });
    expect(res.status === 204 || res.status === 200, `updateVCard answered ${res.status} ${await res.text()}`);
    const [card] = await client.fetchVCards({ addressBook: state.book, objectUrls: [state.card.url] });
    expect(card.data.includes('FN:Tsdav Updated'), `update not visible:\n${card.data}`);
    expect(card.etag !== state.card.etag, 'etag unchanged after an update');
    state.stale = state.card;
    state.card = card;
  });

  await check('tsdav_update_with_stale_etag_is_412', async () => {
    expect(state.stale, 'no stale version');
    const data = state.stale.data.replace('FN:Tsdav Created', 'FN:Tsdav Lost Update');
    const res = await client.updateVCard({ vCard: { ...state.stale, data } });
    expect(res.status === 412, `update with a stale If-Match answered ${res.status}`);
    const [card] = await client.fetchVCards({ addressBook: state.book, objectUrls: [state.card.url] });
    expect(!card.data.includes('Lost Update'), 'the stale update was applied');
  });

  await check('tsdav_sync_collection_delta_from_propfind_token', async () => {
    const responses = await client.syncCollection({
      url: state.book.url,
      props: { 'd:getetag': {} },
      syncLevel: 1,
      syncToken: state.book.syncToken,
    });
    const ours = responses.filter((r) => r.href && sameUrl(r.href, state.card.url));
    expect(ours.length === 1, `delta does not name the created card: ${JSON.stringify(responses.map((r) => [r.href, r.status]))}`);
    expect(ours[0].status !== 404, 'the created card is reported deleted');
    const others = responses.filter((r) => r.href && !sameUrl(r.href, state.card.url) && !sameUrl(r.href, state.book.url));
    expect(others.length === 0, `delta names unchanged cards: ${others.map((r) => r.href)}`);
  });

  await check('tsdav_smart_collection_sync_sees_create', async () => {
    const synced = await client.smartCollectionSync({
      collection: { ...state.book, objectMultiGet: tsdav.addressBookMultiGet },
      method: 'webdav',
      detailedResult: true,
      account: state.account,
    });
    const created = synced.objects.created.map((o) => o.url);
    expect(created.some((u) => sameUrl(u, state.card.url)), `created not reported: ${JSON.stringify(synced.objects)}`);
    expect(synced.syncToken && synced.syncToken !== state.book.syncToken, 'no new sync-token');
    state.book.syncToken = synced.syncToken;
  });

  await check('tsdav_delete_with_stale_etag_is_412', async () => {
    const res = await client.deleteVCard({ vCard: state.stale });
    expect(res.status === 412, `delete with a stale If-Match answered ${res.status}`);
  });

  await check('tsdav_delete_vcard', async () => {
    const res = await client.deleteVCard({ vCard: state.card });
    expect(res.status === 204 || res.status === 200, `deleteVCard answered ${res.status}`);
    const cards = await client.fetchVCards({ addressBook: state.book });
    expect(!cards.some((c) => sameUrl(c.url, state.card.url)), 'deleted card still listed');
    expect(cards.length === state.initialCount, `${cards.length} cards, expected ${state.initialCount}`);
  });

  await check('tsdav_sync_collection_reports_delete', async () => {
    const responses = await client.syncCollection({
      url: state.book.url,
      props: { 'd:getetag': {} },
      syncLevel: 1,
      syncToken: state.book.syncToken,
    });
    const ours = responses.filter((r) => r.href && sameUrl(r.href, state.card.url));
    expect(ours.length === 1 && ours[0].status === 404, `delete not reported as 404: ${JSON.stringify(responses.map((r) => [r.href, r.status]))}`);
  });
}

main()
  .catch((e) => {
    failed += 1;
    console.log(`[FAIL] tsdav_suite: ${(e && e.stack) || e}`);
  })
  .finally(() => process.exit(failed ? 1 : 0));
