"""Include under /api/v1/ (mesproject/urls.py)."""

from rest_framework.routers import SimpleRouter

from . import views

app_name = "execution"

router = SimpleRouter()
router.register("registrations", views.RegistrationViewSet, basename="registration")

urlpatterns = router.urls
