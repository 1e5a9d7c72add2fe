"""Include under /api/v1/inventory/ (mesproject/urls.py)."""

from rest_framework.routers import SimpleRouter

from . import views

app_name = "inventory"

router = SimpleRouter()
router.register("transactions", views.InventoryTransactionViewSet, basename="transaction")
router.register("on-hand", views.OnHandViewSet, basename="onhand")
router.register("reservations", views.ReservationViewSet, basename="reservation")
router.register("journals", views.AdjustmentJournalViewSet, basename="journal")

urlpatterns = router.urls
