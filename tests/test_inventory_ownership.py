"""app/catalog/inventory.py is the only code that writes `products.stock` or the stock ledger.

The source of app/ and of the seed script is read (not run) and every way of writing either
is looked for: an UPDATE or INSERT of products naming the stock, an ORM assignment to
`.stock`, a Product built with a stock, any INSERT into (or new row of) the ledger, and raw
SQL doing the same. The finder is first shown the real writers, so it cannot pass by
finding nothing.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OWNER = ROOT / "app" / "catalog" / "inventory.py"
SCANNED = [*sorted((ROOT / "app").rglob("*.py")), ROOT / "seed_data.py"]
RAW_SQL = re.compile(
    r"UPDATE\s+products\b[^;]*\bSET\b[^;]*\bstock\b|INSERT\s+INTO\s+stock_movements\b", re.I
)


def _name(node) -> str | None:
    """`Product`, `StockMovement` or `insert`, whether called or reached as an attribute."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _statement_target(call: ast.Call) -> tuple[str | None, str | None]:
    """For a call chain such as update(Product).where(...).values(...): ("update", "Product")."""
    node = call
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        node = node.func.value
    if isinstance(node, ast.Call) and node.args:
        return _name(node.func), _name(node.args[0])
    return None, None


def _names_stock(call: ast.Call) -> bool:
    if any(keyword.arg == "stock" for keyword in call.keywords):
        return True
    return any(
        isinstance(arg, ast.Dict)
        and any(isinstance(key, ast.Constant) and key.value == "stock" for key in arg.keys)
        for arg in call.args
    )


def _field_lists(tree: ast.Module) -> dict[str, set[str]]:
    """Module-level tuples or lists of field names, e.g. EDITABLE_FIELDS = ("name", ...)."""
    lists = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple | ast.List):
            items = node.value.elts
            if all(
                isinstance(item, ast.Constant) and isinstance(item.value, str) for item in items
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        lists[target.id] = {item.value for item in items}
    return lists


def _setattr_may_set_stock(call: ast.Call, loops: list[ast.For], lists: dict) -> bool:
    """A literal name other than "stock" is safe, and so is the variable of an enclosing
    `for field in SOME_FIELDS` whose list leaves the stock out."""
    field = call.args[1]
    if isinstance(field, ast.Constant):
        return field.value == "stock"
    if isinstance(field, ast.Name):
        for loop in loops:
            target, fields = loop.target, loop.iter
            if isinstance(target, ast.Name) and target.id == field.id:
                names = lists.get(fields.id) if isinstance(fields, ast.Name) else None
                return names is None or "stock" in names
    return True


def _with_loops(node: ast.AST, loops: list[ast.For]):
    """Every node, with the `for` loops around it."""
    yield node, loops
    inner = [*loops, node] if isinstance(node, ast.For) else loops
    for child in ast.iter_child_nodes(node):
        yield from _with_loops(child, inner)


def stock_writes(source: str) -> list[str]:
    """Every place in `source` that writes the stock column or the ledger."""
    found = []
    tree = ast.parse(source)
    lists = _field_lists(tree)
    for node, loops in _with_loops(tree, []):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "stock" for t in targets):
                found.append(f"line {line}: assigns .stock")
        if not isinstance(node, ast.Call):
            continue
        callee = _name(node.func)
        if (
            callee == "setattr"
            and len(node.args) > 1
            and _setattr_may_set_stock(node, loops, lists)
        ):
            found.append(f"line {line}: setattr() may set the stock")
        if callee == "StockMovement":
            found.append(f"line {line}: builds a ledger row")
        if callee == "Product" and _names_stock(node):
            found.append(f"line {line}: builds a Product with a stock")
        if callee in ("insert", "update") and node.args:
            target = _name(node.args[0])
            if target in ("StockMovement", "stock_movements"):
                found.append(f"line {line}: {callee}s the ledger")
            if callee == "insert" and target == "Product":
                found.append(f"line {line}: inserts products (with their stock)")
        if callee == "values" and _names_stock(node):
            statement, target = _statement_target(node)
            if statement in ("update", "insert") and target == "Product":
                found.append(f"line {line}: {statement}s products.stock")
    for number, text in enumerate(source.splitlines(), start=1):
        if RAW_SQL.search(text):
            found.append(f"line {number}: raw SQL writes stock")
    return found


def test_the_finder_sees_every_kind_of_stock_write():
    examples = {
        "update(Product).where(Product.id == 1).values(stock=Product.stock - 1)": 1,
        "session.execute(update(Product).values({'stock': 0}))": 1,
        "product.stock = 3": 1,
        "product.stock += 3": 1,
        "setattr(product, field, value)": 1,
        "Product(name='x', stock=2)": 1,
        "session.add(StockMovement(product_id=1, delta=1, reason='x'))": 1,
        "session.execute(insert(StockMovement), rows)": 1,
        "session.execute(insert(Product), rows)": 1,
        "text('UPDATE products SET stock = stock - 1 WHERE id = 1')": 1,
        "text('INSERT INTO stock_movements (delta) VALUES (1)')": 1,
        # Reads and other columns are fine.
        "select(Product.stock).where(Product.stock > 0)": 0,
        "update(Product).values(name='x')": 0,
        "setattr(product, 'name', value)": 0,
        "FIELDS = ('name', 'price')\nfor f in FIELDS:\n    setattr(product, f, 1)": 0,
        "FIELDS = ('name', 'stock')\nfor f in FIELDS:\n    setattr(product, f, 1)": 1,
        "select(StockMovement).where(StockMovement.product_id == 1)": 0,
    }
    for source, expected in examples.items():
        assert len(stock_writes(source)) == expected, source


def test_inventory_itself_is_found_writing():
    found = stock_writes(OWNER.read_text())
    assert any("updates products.stock" in finding for finding in found)
    assert any("inserts the ledger" in finding for finding in found)


@pytest.mark.parametrize(
    "path", [p for p in SCANNED if p != OWNER], ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_other_module_writes_stock_or_the_ledger(path):
    assert stock_writes(path.read_text()) == [], f"{path.relative_to(ROOT)} writes stock"
