#!/usr/bin/env node
/*
 * The Postman client, for real: the served OpenAPI document converted by openapi-to-postmanv2
 * with the options a Postman user picks on Import, then a shopping flow of the generated
 * requests run by newman against a live server on a freshly seeded store.
 *
 *   node tests/clients/postman/run-flow.js --base-url http://127.0.0.1:5000 [--out DIR]
 *     [--openapi FILE]   (default: the server's own GET /api/openapi.json, as the test runs it)
 *
 * Environment: STORE_ADMIN_TOKEN, an access token of an admin of that server (the pytest test
 * logs the seeded admin in and passes it). --out DIR keeps the generated collection, the flow
 * collection and the environment there, so they can be imported into Postman and looked at.
 *
 * The rules of the flow:
 * - Every request is an item of the GENERATED collection, picked by method and path
 *   ("POST /api/cart") and sent exactly as generated: URL, path variables, query parameters
 *   (optional ones included, with the document's examples), headers, auth and body all come
 *   from the document. Nothing is typed in by hand.
 * - The only things scripts set are environment variables: `bearerToken` (the variable the
 *   generated bearer auth uses), switched by a pre-request script between the customer's
 *   token (captured from the login response by the login step's test script) and the admin's
 *   (STORE_ADMIN_TOKEN), plus values the test scripts remember for later assertions.
 *   `baseUrl` comes with the environment.
 * - Guards: before the run, each flow item's request must equal the generated item's, each
 *   pre-request script must be one of the token switches below, and the generated collection
 *   may reference no variable but {{baseUrl}} and {{bearerToken}}; during the run, what newman
 *   actually sent (method, URL, headers, body) must be the generated request.
 * - The store is the freshly seeded demo catalog: the document's examples (product 1,
 *   category 2, order 1, slug coffee-mug, the alice account...) are meant to work on it.
 * - Logout is the last request: it revokes the customer's token.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const util = require('util');
const Converter = require('openapi-to-postmanv2');
const newman = require('newman');

// The Import options a Postman user changes; everything else keeps its default (in particular
// enableOptionalParameters: true, so every documented optional query parameter and header is
// sent with its example, and requestNameSource: 'Fallback', names from the summaries).
const CONVERTER_OPTIONS = {
  parametersResolution: 'Example', // parameter and body values from the document's examples
  folderStrategy: 'Tags', // one folder per OpenAPI tag (auth, products, cart, ...)
};
const ALLOWED_VARIABLES = new Set(['baseUrl', 'bearerToken']);

function parseArgs(argv) {
  const args = { baseUrl: null, out: null, openapi: null };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--base-url') args.baseUrl = argv[++i];
    else if (argv[i] === '--out') args.out = argv[++i];
    else if (argv[i] === '--openapi') args.openapi = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!args.baseUrl) throw new Error('--base-url is required');
  args.baseUrl = args.baseUrl.replace(/\/+$/, '');
  return args;
}

function convert(document) {
  return new Promise((resolve, reject) => {
    Converter.convertV2({ type: 'json', data: document }, CONVERTER_OPTIONS, (err, result) => {
      if (err) return reject(err);
      if (!result.result) return reject(new Error(`conversion failed: ${result.reason}`));
      return resolve(result.output[0].data);
    });
  });
}

// "GET /api/products/{product_id}" for a generated item (its URL path uses :product_id).
function operationKey(item) {
  const { url, method } = item.request;
  const segments = (typeof url === 'string' ? [] : url.path || []).map((s) =>
    s.startsWith(':') ? `{${s.slice(1)}}` : s,
  );
  return `${method.toUpperCase()} /${segments.join('/')}`;
}

function indexItems(items, index = new Map()) {
  for (const item of items) {
    if (item.item) indexItems(item.item, index);
    else if (item.request) index.set(operationKey(item), item);
  }
  return index;
}

// The pre-request scripts: a step acts as nobody (no script), the customer or the admin.
const ROLE_SCRIPTS = {
  customer: "pm.environment.set('bearerToken', pm.environment.get('customerToken'));",
  admin: "pm.environment.set('bearerToken', pm.environment.get('adminToken'));",
};

// Helpers every test script starts with (scripts do not share scope). They only read the
// request and the response, and remember values in the environment for later assertions.
const TEST_PRELUDE = String.raw`
const json = () => pm.response.json();
const sent = () => JSON.parse(pm.request.body.raw);
const recall = (key) => {
  const value = pm.environment.get(key);
  if (value === undefined || value === null || value === '') {
    throw new Error('environment variable ' + key + ' is not set: an earlier step failed');
  }
  return value;
};
const expectStatus = (code) => {
  pm.test('status ' + code, () => {
    pm.expect(pm.response.code, 'status (body: ' + pm.response.text().slice(0, 600) + ')').to.eql(code);
  });
};
const MONEY = /^\d+\.\d{2}$/;
const expectMoney = (value, expected, what) => {
  pm.expect(value, what + ' is a decimal string').to.be.a('string').and.match(MONEY);
  if (expected !== undefined) pm.expect(value, what).to.eql(expected);
};
const cents = (money) => Math.round(Number(money) * 100);
const expectPage = (page, perPage) => {
  pm.expect(page.page, 'page').to.eql(1);
  pm.expect(page.per_page, 'per_page').to.eql(perPage);
  pm.expect(page.items, 'items').to.be.an('array');
  pm.expect(page.items.length).to.be.at.most(perPage);
  pm.expect(page.total, 'total').to.be.a('number').and.at.least(page.items.length);
  pm.expect(page.pages, 'pages').to.eql(Math.ceil(page.total / perPage));
};
const expectProduct = (p) => {
  pm.expect(p.id, 'id').to.be.a('number');
  pm.expect(p.name, 'name').to.be.a('string').and.not.empty;
  pm.expect(p.slug, 'slug').to.be.a('string').and.not.empty;
  expectMoney(p.price, undefined, 'price');
  pm.expect(p.stock, 'stock').to.be.a('number');
  pm.expect(p.images, 'images').to.be.an('array');
  pm.expect(p.is_active, 'is_active').to.be.a('boolean');
};
const expectCart = (cart) => {
  pm.expect(cart.items, 'items').to.be.an('array');
  cart.items.forEach((line) => {
    pm.expect(line.quantity).to.be.a('number');
    expectMoney(line.unit_price, undefined, 'unit_price');
    expectMoney(line.line_total, (cents(line.unit_price) * line.quantity / 100).toFixed(2), 'line_total');
  });
  const sum = cart.items.reduce((acc, line) => acc + cents(line.line_total), 0);
  expectMoney(cart.total, (sum / 100).toFixed(2), 'total');
  pm.expect(cart.item_count, 'item_count').to.eql(cart.items.reduce((acc, l) => acc + l.quantity, 0));
};
`;

// The flow: [operation, acting as (null: no token), step name, test script]. Order matters.
const FLOW = [
  // --- the customer ---------------------------------------------------------------------
  ['POST /api/auth/register', null, 'register (the example account)', `
    expectStatus(201);
    const user = json(), body = sent();
    pm.test('the account registered', () => {
      pm.expect(user.id).to.be.a('number');
      pm.expect(user.username).to.eql(body.username);
      pm.expect(user.email).to.eql(body.email);
      pm.expect(user.is_admin).to.eql(false);
      pm.expect(user.created_at).to.be.a('string');
      pm.expect(user).to.not.have.property('password');
    });`],
  ['POST /api/auth/login', null, 'log in (the example credentials)', `
    expectStatus(200);
    const tokens = json();
    pm.test('a bearer token pair', () => {
      pm.expect(tokens.access_token).to.be.a('string').and.not.empty;
      pm.expect(tokens.refresh_token).to.be.a('string').and.not.empty;
      pm.expect(tokens.token_type.toLowerCase()).to.eql('bearer');
      pm.expect(tokens.expires_in).to.be.a('number').and.above(0);
    });
    pm.environment.set('customerToken', tokens.access_token);
    pm.environment.set('customerName', sent().username);`],
  ['GET /api/auth/me', 'customer', 'who am I', `
    expectStatus(200);
    pm.test('the logged-in customer', () => {
      pm.expect(json().username).to.eql(recall('customerName'));
      pm.expect(json().is_admin).to.eql(false);
    });`],
  ['GET /api/categories', null, 'the categories (page from the examples)', `
    expectStatus(200);
    const page = json();
    pm.test('page 1 of 20 categories, the seeded ones', () => {
      expectPage(page, 20);
      pm.expect(page.items).to.not.be.empty;
      const byId = Object.fromEntries(page.items.map((c) => [c.id, c]));
      pm.expect(byId[1].name).to.eql('Coffee');
      pm.expect(byId[1].parent_id).to.eql(null);
      pm.expect(byId[2].name).to.eql('Beans');
      pm.expect(byId[2].parent_id).to.eql(1);
      page.items.forEach((c) => pm.expect(c.slug).to.be.a('string'));
    });`],
  ['GET /api/products', null, 'search with every filter and the page (examples)', `
    expectStatus(200);
    const page = json();
    const query = Object.fromEntries(pm.request.url.query.filter((q) => !q.disabled)
      .map((q) => [q.key, q.value]));
    pm.test('the query is the examples', () => {
      pm.expect(query).to.eql({ include_inactive: 'false', page: '1', per_page: '20', q: 'mug',
        category: 'mugs', min_price: '5.00', max_price: '50.00', in_stock: 'true', sort: '-price' });
    });
    pm.test('page 1 of 20, not empty', () => {
      expectPage(page, 20);
      pm.expect(page.items).to.not.be.empty;
    });
    pm.test('every product matches the filters', () => {
      page.items.forEach((p) => {
        expectProduct(p);
        pm.expect(p.category && p.category.slug, 'category of ' + p.slug).to.eql('mugs');
        pm.expect(cents(p.price), 'price of ' + p.slug).to.be.within(500, 5000);
        pm.expect(p.stock, 'stock of ' + p.slug).to.be.above(0);
        pm.expect(p.is_active, 'active: ' + p.slug).to.eql(true);
      });
    });
    pm.test('sorted by price, highest first', () => {
      const prices = page.items.map((p) => cents(p.price));
      pm.expect(prices).to.eql([...prices].sort((a, b) => b - a));
    });
    pm.test('the coffee mug is found', () => {
      pm.expect(page.items.map((p) => p.slug)).to.include('coffee-mug');
    });`],
  ['GET /api/products/by-slug/{slug}', null, 'a product by its slug (coffee-mug)', `
    expectStatus(200);
    const p = json();
    pm.test('the coffee mug', () => {
      expectProduct(p);
      pm.expect(p.slug).to.eql('coffee-mug');
      pm.expect(p.id).to.eql(1);
      pm.expect(p.name).to.eql('Coffee mug');
      expectMoney(p.price, '12.50', 'price');
      pm.expect(p.category.slug).to.eql('mugs');
    });
    pm.environment.set('mugPrice', p.price);`],
  ['GET /api/products/{product_id}', null, 'product 1', `
    expectStatus(200);
    const p = json();
    pm.test('the coffee mug again', () => {
      expectProduct(p);
      pm.expect(p.id).to.eql(1);
      pm.expect(p.slug).to.eql('coffee-mug');
      pm.expect(p.price).to.eql(recall('mugPrice'));
      pm.expect(p.stock).to.be.at.least(2);
    });`],
  ['POST /api/cart', 'customer', 'add product 1 (example: 2 of it)', `
    expectStatus(200);
    const cart = json(), body = sent();
    pm.test('one line: product 1 x 2', () => {
      expectCart(cart);
      pm.expect(body).to.eql({ product_id: 1, quantity: 2 });
      pm.expect(cart.items.map((l) => [l.product_id, l.quantity])).to.eql([[1, 2]]);
      pm.expect(cart.items[0].unit_price).to.eql(recall('mugPrice'));
    });`],
  ['PUT /api/cart/{product_id}', 'customer', "set product 1's quantity (example: 3)", `
    expectStatus(200);
    const cart = json();
    pm.test('product 1 x 3', () => {
      expectCart(cart);
      pm.expect(cart.items.map((l) => [l.product_id, l.quantity])).to.eql([[1, 3]]);
      expectMoney(cart.total, (cents(recall('mugPrice')) * 3 / 100).toFixed(2), 'total');
    });`],
  ['DELETE /api/cart/{product_id}', 'customer', 'remove product 1', `
    expectStatus(200);
    const cart = json();
    pm.test('the cart is empty', () => {
      expectCart(cart);
      pm.expect(cart.items).to.eql([]);
      pm.expect(cart.total).to.eql('0.00');
    });`],
  ['POST /api/cart', 'customer', 'add product 1 again (the same request: no key, no replay)', `
    expectStatus(200);
    const cart = json();
    pm.test('product 1 x 2 is back: added, not replayed', () => {
      expectCart(cart);
      pm.expect(cart.items.map((l) => [l.product_id, l.quantity])).to.eql([[1, 2]]);
      pm.expect(pm.response.headers.has('Idempotent-Replayed')).to.eql(false);
    });`],
  ['GET /api/cart', 'customer', 'the cart', `
    expectStatus(200);
    const cart = json();
    pm.test('product 1 x 2', () => {
      expectCart(cart);
      pm.expect(cart.items.map((l) => [l.product_id, l.quantity])).to.eql([[1, 2]]);
      pm.expect(cart.items[0].name).to.eql('Coffee mug');
      expectMoney(cart.total, (cents(recall('mugPrice')) * 2 / 100).toFixed(2), 'total');
    });`],
  ['POST /api/addresses', 'customer', 'add an address (the example: address 1)', `
    expectStatus(201);
    pm.test('the example address, in the book', () => {
      pm.expect(json().id).to.eql(1);
      pm.expect(json().country).to.eql(sent().country);
      pm.expect(json().city).to.eql(sent().city);
    });`],
  ['GET /api/shipping-methods', null, 'shipping methods to the example country', `
    expectStatus(200);
    pm.test('method 1 ships there', () => {
      pm.expect(json().items.map((m) => m.id)).to.include(1);
      json().items.forEach((m) => expectMoney(m.price, undefined, 'price'));
    });`],
  ['POST /api/checkout/preview', 'customer', 'preview (address 1, method 1, the demo code)', `
    expectStatus(200);
    const preview = json(), totals = preview.totals, subtotal = cents(recall('mugPrice')) * 2;
    pm.test('the breakdown adds up, to the cent', () => {
      expectMoney(totals.subtotal, (subtotal / 100).toFixed(2), 'subtotal');
      expectMoney(totals.discount, (Math.round(subtotal / 10) / 100).toFixed(2), 'discount');
      ['shipping', 'tax', 'total'].forEach((k) => expectMoney(totals[k], undefined, k));
      const charged = cents(totals.subtotal) - cents(totals.discount) + cents(totals.shipping);
      pm.expect(cents(totals.total)).to.eql(charged + cents(totals.tax));
      pm.expect(preview.discount_code).to.eql('WELCOME10');
      pm.expect(preview.shipping_method.id).to.eql(1);
    });
    pm.environment.set('previewTotals', JSON.stringify(totals));`],
  ['POST /api/orders', 'customer', 'place the order (the same body)', `
    expectStatus(201);
    const order = json(), expected = (cents(recall('mugPrice')) * 2 / 100).toFixed(2);
    pm.test('the order charged what the preview showed', () => {
      pm.expect(order.totals).to.eql(JSON.parse(recall('previewTotals')));
      pm.expect(order.total).to.eql(order.totals.total);
      pm.expect(order.shipping_address.city).to.be.a('string');
      pm.expect(order.discount_code).to.eql('WELCOME10');
    });
    pm.test('a pending order for product 1 x 2', () => {
      pm.expect(order.id).to.be.a('number');
      pm.expect(order.status).to.eql('pending');
      pm.expect(order.created_at).to.be.a('string');
      pm.expect(order.items).to.have.lengthOf(1);
      const item = order.items[0];
      pm.expect(item.product_id).to.eql(1);
      pm.expect(item.product_name).to.eql('Coffee mug');
      pm.expect(item.quantity).to.eql(2);
      expectMoney(item.unit_price, recall('mugPrice'), 'unit_price');
      expectMoney(item.line_total, expected, 'line_total');
      expectMoney(order.totals.subtotal, expected, 'subtotal');
      pm.expect(order.status_history).to.be.an('array').that.is.not.empty;
      pm.expect(pm.response.headers.get('Location')).to.match(new RegExp('/api/orders/' + order.id + '$'));
    });
    pm.environment.set('orderId', order.id);
    pm.environment.set('orderTotal', order.total);`],
  ['GET /api/orders/history', 'customer', 'order history (page from the examples)', `
    expectStatus(200);
    const page = json();
    pm.test('the new order, and only it', () => {
      expectPage(page, 20);
      pm.expect(page.total).to.eql(1);
      pm.expect(page.items[0].id).to.eql(Number(recall('orderId')));
      pm.expect(page.items[0].status).to.eql('pending');
      expectMoney(page.items[0].total, recall('orderTotal'), 'total');
    });`],
  ['GET /api/orders/{order_id}', 'customer', 'order 1 (the example id: the first order)', `
    expectStatus(200);
    const order = json();
    pm.test('the order just placed', () => {
      pm.expect(order.id).to.eql(Number(recall('orderId')));
      pm.expect(order.status).to.eql('pending');
      expectMoney(order.total, recall('orderTotal'), 'total');
      pm.expect(order.items.map((i) => [i.product_id, i.quantity])).to.eql([[1, 2]]);
    });`],
  // --- the admin --------------------------------------------------------------------------
  ['POST /api/products', 'admin', 'create a product (the example)', `
    expectStatus(201);
    const p = json(), body = sent();
    pm.test('the product as sent', () => {
      expectProduct(p);
      pm.expect(p.name).to.eql(body.name);
      pm.expect(p.slug).to.eql(body.slug);
      pm.expect(p.sku).to.eql(body.sku);
      expectMoney(p.price, Number(body.price).toFixed(2), 'price');
      pm.expect(p.stock).to.eql(body.stock);
      pm.expect(p.category_id).to.eql(body.category_id);
      pm.expect(p.category.id).to.eql(body.category_id);
      pm.expect(p.images).to.have.lengthOf(body.images.length);
      pm.expect(pm.response.headers.get('Location')).to.match(new RegExp('/api/products/' + p.id + '$'));
    });`],
  ['PATCH /api/products/{product_id}', 'admin', 'update product 1 (the example)', `
    expectStatus(200);
    const p = json(), body = sent();
    pm.test('product 1 as sent', () => {
      expectProduct(p);
      pm.expect(p.id).to.eql(1);
      pm.expect(p.name).to.eql(body.name);
      pm.expect(p.slug).to.eql(body.slug);
      pm.expect(p.sku).to.eql(body.sku);
      expectMoney(p.price, Number(body.price).toFixed(2), 'price');
      pm.expect(p.stock).to.eql(body.stock);
      pm.expect(p.category_id).to.eql(body.category_id);
    });`],
  ['DELETE /api/products/{product_id}', 'admin', 'delete product 1', `
    expectStatus(204);
    pm.test('no body', () => pm.expect(pm.response.text()).to.eql(''));`],
  ['POST /api/categories', 'admin', 'create a category (the example)', `
    expectStatus(201);
    const c = json(), body = sent();
    pm.test('the category as sent', () => {
      pm.expect(c.id).to.be.a('number');
      pm.expect(c.name).to.eql(body.name);
      pm.expect(c.slug).to.eql(body.slug);
      pm.expect(c.parent_id).to.eql(body.parent_id);
      pm.expect(c.description).to.eql(body.description);
      pm.expect(pm.response.headers.get('Location')).to.match(new RegExp('/api/categories/' + c.id + '$'));
    });`],
  ['PATCH /api/categories/{category_id}', 'admin', 'update category 2 (the example)', `
    expectStatus(200);
    const c = json(), body = sent();
    pm.test('category 2 as sent', () => {
      pm.expect(c.id).to.eql(2);
      pm.expect(c.name).to.eql(body.name);
      pm.expect(c.slug).to.eql(body.slug);
      pm.expect(c.parent_id).to.eql(body.parent_id);
      pm.expect(c.description).to.eql(body.description);
    });`],
  ['DELETE /api/categories/{category_id}', 'admin', 'delete category 2 (?force=true)', `
    expectStatus(204);
    pm.test('no body', () => pm.expect(pm.response.text()).to.eql(''));`],
  // --- last: logout revokes the customer's login ------------------------------------------
  ['POST /api/auth/logout', 'customer', 'log out (last: it revokes the token)', `
    expectStatus(204);`],
];

function script(type, source) {
  return { listen: type, script: { type: 'text/javascript', exec: source.split('\n') } };
}

function buildFlow(generated) {
  const index = indexItems(generated.item);
  const missing = [...new Set(FLOW.map(([op]) => op).filter((op) => !index.has(op)))];
  if (missing.length) {
    throw new Error(`the generated collection has no request for: ${missing.join(', ')}`);
  }
  if (FLOW[FLOW.length - 1][0] !== 'POST /api/auth/logout' ||
      FLOW.slice(0, -1).some(([op]) => op === 'POST /api/auth/logout')) {
    throw new Error('logout must be the last request of the run');
  }
  const item = FLOW.map(([op, role, name, test], i) => {
    const generatedItem = index.get(op);
    const event = [script('test', TEST_PRELUDE + test)];
    if (role) event.unshift(script('prerequest', ROLE_SCRIPTS[role]));
    return {
      id: `step-${i + 1}`,
      name: `${String(i + 1).padStart(2, '0')} ${op}: ${name}`,
      request: JSON.parse(JSON.stringify(generatedItem.request)), // the generated request
      event,
    };
  });
  return {
    info: { ...generated.info, name: `${generated.info.name}: shopping flow` },
    variable: generated.variable,
    auth: generated.auth,
    item,
  };
}

// The guards that run before newman: the flow is the generated requests plus token switches.
function checkFlow(generated, flow) {
  const index = indexItems(generated.item);
  const problems = [];
  flow.item.forEach((item, i) => {
    const op = FLOW[i][0];
    // As JSON (what a collection file holds): the converter leaves some keys undefined.
    const generatedRequest = JSON.parse(JSON.stringify(index.get(op).request));
    if (!util.isDeepStrictEqual(item.request, generatedRequest)) {
      problems.push(`${item.name}: its request differs from the generated one`);
    }
    const pre = item.event.filter((e) => e.listen === 'prerequest');
    const allowed = Object.values(ROLE_SCRIPTS);
    if (pre.length > 1 || pre.some((e) => !allowed.includes(e.script.exec.join('\n')))) {
      problems.push(`${item.name}: a pre-request script other than a token switch`);
    }
  });
  const text = JSON.stringify(generated);
  const variables = new Set([...text.matchAll(/\{\{([^{}]+)\}\}/g)].map((m) => m[1]));
  const foreign = [...variables].filter((v) => !ALLOWED_VARIABLES.has(v));
  if (foreign.length) problems.push(`the generated collection uses variables ${foreign.join(', ')}`);
  if (problems.length) throw new Error(`the flow is not the generated requests:\n${problems.join('\n')}`);
}

// What the runtime adds to every request on its own (not the document's business).
const RUNTIME_HEADERS = new Set(['user-agent', 'postman-token', 'host', 'accept-encoding',
  'connection', 'content-length', 'cache-control']);

// What newman sent must be the generated request, with {{baseUrl}}, the path variables and
// {{bearerToken}} filled in and nothing else changed.
function sentProblems(generatedRequest, sent, baseUrl, tokens) {
  const problems = [];
  const gen = generatedRequest;
  if (sent.method !== gen.method) problems.push(`method ${sent.method} != ${gen.method}`);
  const vars = Object.fromEntries((gen.url.variable || []).map((v) => [v.key, v.value]));
  const pathname = (gen.url.path || []).map((s) => (s.startsWith(':') ? vars[s.slice(1)] : s));
  const query = (gen.url.query || []).filter((q) => !q.disabled);
  let expectedUrl = `${baseUrl}/${pathname.join('/')}`;
  if (query.length) expectedUrl += `?${query.map((q) => `${q.key}=${q.value}`).join('&')}`;
  const sentUrl = new URL(sent.url.toString());
  const expected = new URL(expectedUrl);
  if (sentUrl.href !== expected.href) problems.push(`URL ${sentUrl.href} != ${expected.href}`);
  const sentHeaders = sent.headers.all().filter((h) => !h.disabled);
  const expectedHeaders = (gen.header || []).filter((h) => !h.disabled);
  for (const h of expectedHeaders) {
    const got = sentHeaders.filter((s) => s.key.toLowerCase() === h.key.toLowerCase());
    if (got.length !== 1 || got[0].value !== h.value) {
      problems.push(`header ${h.key}: sent ${JSON.stringify(got.map((s) => s.value))}, generated ${JSON.stringify(h.value)}`);
    }
  }
  const bearer = gen.auth && gen.auth.type === 'bearer';
  for (const s of sentHeaders) {
    const key = s.key.toLowerCase();
    if (key === 'authorization') {
      if (!bearer) problems.push('an Authorization header on a request without auth');
      else if (!tokens.some((t) => t && s.value === `Bearer ${t}`)) {
        problems.push('an Authorization header that is not one of the two tokens');
      }
    } else if (!RUNTIME_HEADERS.has(key) &&
               !expectedHeaders.some((h) => h.key.toLowerCase() === key)) {
      problems.push(`header ${s.key} is not in the generated request`);
    }
  }
  const genBody = gen.body && gen.body.mode === 'raw' ? gen.body.raw : '';
  const sentBody = sent.body && sent.body.mode === 'raw' ? sent.body.raw : '';
  if (sentBody !== genBody) problems.push(`body ${sentBody} != ${genBody}`);
  return problems;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const adminToken = process.env.STORE_ADMIN_TOKEN || '';
  if (!adminToken) throw new Error('STORE_ADMIN_TOKEN (an admin access token) is required');
  let document;
  if (args.openapi) {
    document = JSON.parse(fs.readFileSync(args.openapi, 'utf8'));
  } else {
    const response = await fetch(`${args.baseUrl}/api/openapi.json`);
    if (!response.ok) throw new Error(`GET /api/openapi.json: ${response.status}`);
    document = await response.json();
  }
  const generated = await convert(document);
  const flow = buildFlow(generated);
  checkFlow(generated, flow);
  const environment = {
    name: 'store (test run)',
    values: [
      ['baseUrl', args.baseUrl],
      ['bearerToken', ''],
      ['adminToken', adminToken],
    ].map(([key, value]) => ({ key, value, enabled: true })),
  };
  if (args.out) {
    fs.mkdirSync(args.out, { recursive: true });
    const write = (name, data) =>
      fs.writeFileSync(path.join(args.out, name), `${JSON.stringify(data, null, 2)}\n`);
    write('generated.postman_collection.json', generated);
    write('flow.postman_collection.json', flow);
    write('test.postman_environment.json', {
      ...environment,
      values: environment.values.map((v) => (v.key === 'adminToken' ? { ...v, value: '' } : v)),
    });
  }
  const byId = new Map(flow.item.map((item, i) => [item.id, FLOW[i][0]]));
  const index = indexItems(generated.item);
  const tampered = [];
  let sentCount = 0;
  const summary = await new Promise((resolve, reject) => {
    const emitter = newman.run(
      { collection: flow, environment, reporters: ['cli'], timeoutRequest: 30000, color: 'off' },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    emitter.on('request', (err, run) => {
      if (err || !run.request) return;
      sentCount += 1;
      // The two tokens an Authorization header may carry: the admin's, the customer's so far.
      const tokens = [adminToken, emitter.summary.environment.get('customerToken')];
      const op = byId.get(run.item.id);
      const problems = sentProblems(index.get(op).request, run.request, args.baseUrl, tokens);
      if (problems.length) tampered.push(`${run.item.name}:\n  ${problems.join('\n  ')}`);
    });
  });
  const { stats, failures } = summary.run;
  const ran = stats.requests.total;
  let failed = false;
  if (tampered.length) {
    console.error(`requests sent differently from the generated ones:\n${tampered.join('\n')}`);
    failed = true;
  }
  if (ran !== FLOW.length || sentCount !== FLOW.length) {
    console.error(`ran ${ran} (sent ${sentCount}) of ${FLOW.length} requests`);
    failed = true;
  }
  if (failures.length || stats.assertions.failed || stats.testScripts.failed ||
      stats.prerequestScripts.failed) {
    console.error(`${failures.length} failure(s) in the Postman flow`);
    failed = true;
  }
  if (failed) process.exit(1);
  console.log(`Postman flow: ${ran} requests sent as generated, ${stats.assertions.total} assertions, all passed`);
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
