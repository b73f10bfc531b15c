"""The demo shop at /demo/: a few real pages that embed the real snippet with the demo app's
token, so that clicking through them shows up in the dashboard (live view, funnel) at once."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from datalab.security import POLICY

from . import selectors
from .site import BLOG_POSTS, PRODUCTS

PRICES = [19, 29, 39, 49, 59, 79]


def _product(number: int) -> dict:
    return {
        "number": number,
        "name": f"Product {number}",
        "price": PRICES[number % len(PRICES)],
        "url": f"/demo/products/{number}",
    }


def _render(request, template: str, title: str, **context) -> HttpResponse:
    shop = selectors.demo_shop()
    context.update(shop=shop, title=title, featured=[_product(n) for n in (1, 2, 3)])
    response = render(request, f"demo/{template}", context, status=200 if shop else 503)
    response["Content-Security-Policy"] = POLICY
    return response


@require_GET
def home(request):
    posts = [
        {"slug": slug, "title": slug.replace("-", " ").capitalize()} for slug in BLOG_POSTS[:3]
    ]
    return _render(request, "home.html", "Home", posts=posts)


@require_GET
def products(request):
    return _render(
        request, "products.html", "Products", items=[_product(n) for n in range(1, PRODUCTS + 1)]
    )


@require_GET
def product(request, number: int):
    if not 1 <= number <= PRODUCTS:
        raise Http404("No such product.")
    return _render(request, "product.html", f"Product {number}", item=_product(number))


@require_GET
def cart(request):
    number = request.GET.get("product", "")
    item = _product(int(number)) if number.isdigit() and 1 <= int(number) <= PRODUCTS else None
    return _render(request, "cart.html", "Your cart", item=item)


@require_GET
def signup(request):
    return _render(request, "signup.html", "Create your account")


@require_GET
def page(request, path: str):
    """The site's other pages (pricing, blog, docs...): the ones generated traffic visits."""
    if not selectors.shop_page_exists(path):
        raise Http404("No such page.")
    leaf = path.strip("/").rsplit("/", 1)[-1]
    return _render(request, "page.html", _title(leaf), path=path)


def _title(slug: str) -> str:
    return slug.replace("-", " ").capitalize()
