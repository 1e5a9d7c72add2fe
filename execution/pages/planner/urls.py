"""Browser pages of the planner, mounted under /planner/."""

from django.urls import path

from . import export, views

app_name = "planner"

urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/export.csv", export.order_export, name="order_export"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/edit/", views.order_edit, name="order_edit"),
    path("orders/<int:pk>/split/", views.order_split, name="order_split"),
    path(
        "orders/<int:pk>/transition/<str:transition>/",
        views.order_transition,
        name="order_transition",
    ),
]
