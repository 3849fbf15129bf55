"""Small multi-language repositories for the intel tests, committed with the git CLI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Person",
    "GIT_AUTHOR_EMAIL": "person@example.com",
    "GIT_COMMITTER_NAME": "Test Person",
    "GIT_COMMITTER_EMAIL": "person@example.com",
}

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


def git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    """Run git in ``repo``; its stdout (stripped)."""
    proc = subprocess.run(
        ["git", *args],
        cwd=repo,
        input=stdin,
        capture_output=True,
        env={**os.environ, **GIT_ENV},
        check=True,
    )
    return proc.stdout.decode().strip()


def write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def make_repo(path: Path, files: dict[str, str]) -> Path:
    """A git repository at ``path`` whose first commit holds exactly ``files``."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "--initial-branch=main")
    write(path, files)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path


def commit(repo: Path, files: dict[str, str], message: str = "change") -> str:
    """Write ``files``, commit everything; the new commit id."""
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")
