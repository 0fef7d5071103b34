def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_customer_flow(client, auth, make_product):
    product = make_product(price="19.99", stock=5)
    response = client.post(
        "/api/cart", json={"product_id": product.id, "quantity": 3}, headers=auth.customer
    )
    assert response.status_code == 200
    assert response.get_json()["total"] == "59.97"
    response = client.post("/api/orders", headers=auth.customer)
    assert response.status_code == 201
