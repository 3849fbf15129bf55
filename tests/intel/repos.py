"""Small multi-language repositories for the intel tests (``make_repo`` from ``repo_helpers``
commits them)."""

from __future__ import annotations

SHOP = {
    "shop/__init__.py": '"""A tiny shop."""\n',
    "shop/pricing.py": """\
TAX = 0.2


def price_of(item):
    \"\"\"Price of one item, tax included.\"\"\"
    return item.price * (1 + TAX)
""",
    "shop/cart.py": """\
\"\"\"Shopping carts.\"\"\"

from shop.pricing import price_of


class Cart:
    \"\"\"A cart of items.\"\"\"

    def __init__(self):
        self.items = []

    def add(self, item, qty=1):
        \"\"\"Add ``qty`` of ``item``.\"\"\"
        self.items.append((item, qty))

    def total(self):
        return sum(price_of(item) * qty for item, qty in self.items)


def _helper():
    return Cart()
""",
    "shop/checkout.py": """\
from shop.cart import Cart


def checkout(items):
    cart = Cart()
    for item in items:
        cart.add(item)
    return cart.total()
""",
}

POLYGLOT = {
    "svc/server.go": """\
package svc

// Server serves requests.
type Server struct {
	Addr string
}

type Handler interface {
	Serve(path string) error
}

// Start listens on the address.
func (s *Server) Start(port int) error {
	return listen(s.Addr, port)
}

func listen(addr string, port int) error {
	return nil
}
""",
    "geo/point.rs": """\
/// A point in the plane.
#[derive(Debug)]
pub struct Point {
    x: i32,
}

pub trait Shape {
    fn area(&self) -> f64;
}

impl Shape for Point {
    fn area(&self) -> f64 {
        helper(self.x)
    }
}

fn helper(x: i32) -> f64 {
    f64::from(x)
}
""",
    "app/Main.java": """\
package app;

/** Entry point. */
public class Main {
    /** Greets someone. */
    public static String greet(String name) {
        return format(name);
    }

    private static String format(String s) {
        return s.trim();
    }
}
""",
    "web/cart.ts": """\
import { priceOf } from "./pricing";

/** Sums a basket. */
export function total(items: Item[]): number {
  return items.reduce((sum, i) => sum + priceOf(i), 0);
}

export class Basket {
  add(item: Item): void {}
  private reset(): void {}
}

export interface Item { price: number }

const local = (x: number) => x * 2;
""",
    "web/widget.js": """\
// Renders a widget.
export function render(el) {
  return paint(el, 1);
}

function paint(el, n) {}
""",
}
