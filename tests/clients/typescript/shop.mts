/*
 * The typed client: the shopping flow written against types that openapi-typescript generated
 * from the served document (generated/store-api.ts), with openapi-fetch. Type-checked with
 * `tsc --strict --noEmit`, compiled with tsc, then run against a live server:
 *
 *   STORE_URL=http://127.0.0.1:5000 node tests/clients/typescript/build/shop.mjs
 *
 * STORE_ADMIN_USERNAME and STORE_ADMIN_PASSWORD name an admin of that server. The code is
 * written as a frontend would: it relies on the fields and parameters the document declares
 * (a field that is not marked required, or a query parameter that is not declared, is a type
 * error here, not a runtime surprise). Exit code 0 when every step got what it expected.
 */
import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/store-api.js";

type Product = components["schemas"]["Product"];

const baseUrl = (process.env.STORE_URL ?? "http://127.0.0.1:5000").replace(/\/+$/, "");
const adminUsername = process.env.STORE_ADMIN_USERNAME ?? "admin";
const adminPassword = process.env.STORE_ADMIN_PASSWORD ?? "admin-password";
const run = Date.now().toString(36);

// What every openapi-fetch call answers: data on success, error (the problem body) otherwise.
interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

function fail(step: string, message: string): never {
  throw new Error(`${step}: ${message}`);
}

function check(step: string, condition: boolean, message: string): void {
  if (!condition) fail(step, message);
}

function expectData<T>(step: string, status: number, answer: Answer<T>): T {
  const { data, error, response } = answer;
  if (response.status !== status || data === undefined) {
    fail(step, `expected ${status}, got ${response.status}: ${JSON.stringify(error ?? data)}`);
  }
  console.log(`ok ${step} (${response.status})`);
  return data;
}

function expectNoContent(step: string, answer: Answer<unknown>): void {
  const { error, response } = answer;
  check(step, response.status === 204, `expected 204, got ${response.status}: ${JSON.stringify(error)}`);
  console.log(`ok ${step} (204)`);
}

function cents(money: string): number {
  check("money", /^-?\d+\.\d{2}$/.test(money), `not a two-decimal string: ${money}`);
  return Math.round(Number(money) * 100);
}

function money(value: number): string {
  return (value / 100).toFixed(2);
}

function bearer(token: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
}

async function main(): Promise<void> {
  const api = createClient<paths>({ baseUrl });

  // --- the customer ----------------------------------------------------------------------
  const username = `ts-shopper-${run}`;
  const password = "correct-horse-battery-staple";
  const user = expectData(
    "register",
    201,
    await api.POST("/api/auth/register", {
      body: { username, email: `${username}@example.com`, password },
    }),
  );
  check("register", user.username === username && user.is_admin === false, JSON.stringify(user));

  const tokens = expectData(
    "login",
    200,
    await api.POST("/api/auth/login", { body: { username, password } }),
  );
  const accessToken: string = tokens.access_token;
  check("login", tokens.token_type.toLowerCase() === "bearer", tokens.token_type);
  const customer = bearer(accessToken);

  const me = expectData("me", 200, await customer.GET("/api/auth/me"));
  const userId: number = me.id;
  check("me", me.username === username, me.username);

  const categories = expectData(
    "categories",
    200,
    await api.GET("/api/categories", { params: { query: { page: 1, per_page: 50 } } }),
  );
  const top = categories.items.find((c) => c.parent_id === null) ?? categories.items[0];
  if (top === undefined) fail("categories", "no category");
  const topId: number = top.id;
  const topSlug: string = top.slug;

  const filters = { category: topSlug, in_stock: true, sort: "price", per_page: 5 } as const;
  const page1 = expectData(
    "products page 1",
    200,
    await api.GET("/api/products", { params: { query: { ...filters, page: 1 } } }),
  );
  check("products page 1", page1.items.length === 5 && page1.total > 5, `total ${page1.total}`);
  const prices = page1.items.map((p: Product) => cents(p.price));
  check("products page 1", prices.every((p, i) => i === 0 || prices[i - 1] <= p), "not by price");
  check("products page 1", page1.items.every((p) => p.stock > 0), "a product out of stock");
  const page2 = expectData(
    "products page 2",
    200,
    await api.GET("/api/products", { params: { query: { ...filters, page: 2 } } }),
  );
  const firstIds = new Set(page1.items.map((p) => p.id));
  check("products page 2", page2.page === 2 && page2.items.length > 0, `page ${page2.page}`);
  check("products page 2", page2.items.every((p) => !firstIds.has(p.id)), "repeats page 1");

  const [productA, productB, productC] = page1.items;
  if (productA === undefined || productB === undefined || productC === undefined) {
    fail("products page 1", "fewer than 3 products");
  }
  const bySlug = expectData(
    "product by slug",
    200,
    await api.GET("/api/products/by-slug/{slug}", { params: { path: { slug: productC.slug } } }),
  );
  check("product by slug", bySlug.id === productC.id, `${bySlug.id} != ${productC.id}`);

  let cart = expectData(
    "cart add A",
    200,
    await customer.POST("/api/cart", { body: { product_id: productA.id, quantity: 2 } }),
  );
  cart = expectData(
    "cart add B",
    200,
    await customer.POST("/api/cart", { body: { product_id: productB.id } }),
  );
  check("cart add B", cart.items.length === 2, JSON.stringify(cart.items));
  cart = expectData(
    "cart update A",
    200,
    await customer.PUT("/api/cart/{product_id}", {
      params: { path: { product_id: productA.id } },
      body: { quantity: 3 },
    }),
  );
  const lineA = cart.items.find((line) => line.product_id === productA.id);
  check("cart update A", lineA?.quantity === 3, JSON.stringify(lineA));
  cart = expectData(
    "cart remove B",
    200,
    await customer.DELETE("/api/cart/{product_id}", {
      params: { path: { product_id: productB.id } },
    }),
  );
  check("cart remove B", cart.items.length === 1, JSON.stringify(cart.items));
  check("cart remove B", cart.total === money(3 * cents(productA.price)), cart.total);

  // Checkout: an address of the book, a method that ships there, a code, then the preview's
  // total sent back as expected_total.
  const address = expectData(
    "add address",
    201,
    await customer.POST("/api/addresses", {
      body: {
        name: "Typed Client",
        line1: "1 Main St",
        city: "Austin",
        region: "TX",
        postal_code: "73301",
        country: "US",
      },
    }),
  );
  const methods = expectData(
    "shipping methods",
    200,
    await api.GET("/api/shipping-methods", { params: { query: { country: "US" } } }),
  );
  const method = methods.items[0];
  if (method === undefined) fail("shipping methods", "no method ships to the US");
  const checkout = {
    shipping_address_id: address.id,
    shipping_method_id: method.id,
    discount_code: "WELCOME10",
  };
  const preview = expectData(
    "checkout preview",
    200,
    await customer.POST("/api/checkout/preview", { body: checkout }),
  );
  const subtotal = 3 * cents(productA.price);
  const totals = preview.totals;
  check("checkout preview", totals.subtotal === money(subtotal), totals.subtotal);
  check("checkout preview", totals.discount === money(Math.round(subtotal / 10)), totals.discount);
  check("checkout preview", preview.tax_rate === "0.0825", preview.tax_rate);
  const charged = cents(totals.subtotal) - cents(totals.discount) + cents(totals.shipping);
  check("checkout preview", cents(totals.total) === charged + cents(totals.tax), totals.total);

  const placed = await customer.POST("/api/orders", {
    params: { header: { "Idempotency-Key": randomUUID() } },
    body: { ...checkout, expected_total: totals.total },
  });
  const order = expectData("place order", 201, placed);
  const location = placed.response.headers.get("Location") ?? "";
  check("place order", location.endsWith(`/api/orders/${order.id}`), location);
  check("place order", order.status === "pending", order.status);
  check("place order", JSON.stringify(order.totals) === JSON.stringify(totals), "totals");
  check("place order", order.total === totals.total, order.total);
  check("place order", order.shipping_address?.city === "Austin", "shipping address");
  check("place order", order.shipping_method?.id === method.id, "shipping method");
  check("place order", order.discount_code === "WELCOME10", `${order.discount_code}`);
  const item = order.items[0];
  check("place order", order.items.length === 1 && item?.product_id === productA.id, "items");

  const history = expectData(
    "order history",
    200,
    await customer.GET("/api/orders/history", { params: { query: { page: 1, per_page: 10 } } }),
  );
  check("order history", history.items[0]?.id === order.id && history.total === 1, "history");

  const detail = expectData(
    "order detail",
    200,
    await customer.GET("/api/orders/{order_id}", { params: { path: { order_id: order.id } } }),
  );
  check("order detail", detail.id === order.id && detail.total === order.total, "detail");

  // --- the admin -------------------------------------------------------------------------
  const adminTokens = expectData(
    "admin login",
    200,
    await api.POST("/api/auth/login", { body: { username: adminUsername, password: adminPassword } }),
  );
  const admin = bearer(adminTokens.access_token);

  const category = expectData(
    "create category",
    201,
    await admin.POST("/api/categories", {
      body: { name: `TypeScript ${run}`, parent_id: topId, description: "Made by the typed client." },
    }),
  );
  check("create category", category.parent_id === topId, JSON.stringify(category));
  const renamed = expectData(
    "update category",
    200,
    await admin.PATCH("/api/categories/{category_id}", {
      params: { path: { category_id: category.id } },
      body: { name: `TypeScript renamed ${run}` },
    }),
  );
  check("update category", renamed.name === `TypeScript renamed ${run}`, renamed.name);
  check("update category", renamed.slug === category.slug, "the slug changed with the name");

  const product = expectData(
    "create product",
    201,
    await admin.POST("/api/products", {
      body: {
        name: `TypeScript teapot ${run}`,
        price: "34.00",
        stock: 5,
        sku: `TS-${run}`,
        category_id: category.id,
      },
    }),
  );
  check("create product", product.price === "34.00" && product.stock === 5, JSON.stringify(product));
  check("create product", product.category?.id === category.id, JSON.stringify(product.category));
  const updated = expectData(
    "update product",
    200,
    await admin.PATCH("/api/products/{product_id}", {
      params: { path: { product_id: product.id } },
      body: { price: "36.50" },
    }),
  );
  check("update product", updated.price === "36.50" && updated.name === product.name, "update");
  expectNoContent(
    "delete product",
    await admin.DELETE("/api/products/{product_id}", {
      params: { path: { product_id: product.id } },
    }),
  );
  const gone = await api.GET("/api/products/{product_id}", {
    params: { path: { product_id: product.id } },
  });
  check("deleted product", gone.response.status === 404, `${gone.response.status}`);
  expectNoContent(
    "delete category",
    await admin.DELETE("/api/categories/{category_id}", {
      params: { path: { category_id: category.id } },
    }),
  );

  // --- last: logout, then the token no longer works --------------------------------------
  expectNoContent("logout", await customer.POST("/api/auth/logout"));
  const after = await customer.GET("/api/auth/me");
  check("after logout", after.response.status === 401, `${after.response.status}`);
  console.log(`typed client: the whole flow passed (user ${userId}, order ${order.id})`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
