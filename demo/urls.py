from django.urls import path

from demo import views

urlpatterns = [
    path("", views.home, name="demo-home"),
    path("products", views.products, name="demo-products"),
    path("products/<int:number>", views.product, name="demo-product"),
    path("cart", views.cart, name="demo-cart"),
    path("signup", views.signup, name="demo-signup"),
    path("<path:path>", views.page, name="demo-page"),
]
