"""Browser pages of the WIP reconciliation, to be included under /integration/."""

from django.urls import path

from integration.reconciliation.pages import views as views

app_name = "integration-pages"

urlpatterns = [
    path("reconciliation/", views.reconciliation_list, name="reconciliation-list"),
    path("reconciliation/<int:pk>/", views.reconciliation_detail, name="reconciliation-detail"),
]
