from django.conf import settings
from django.contrib import admin
from django.urls import path

from notes import views

# /health/live and /health/ready are answered by core.middleware.HealthMiddleware; /metrics by the
# gunicorn master on its own port. openapi.json describes these routes; a test keeps it in step.
urlpatterns = [
    path("notes", views.collection, name="notes"),
    path("notes/<int:pk>", views.item, name="note"),
    path("notes/<int:pk>/share", views.share, name="note-share"),
    path("notes/shared/<str:token>", views.shared, name="shared-note"),
]
if settings.DJANGO_ADMIN_ENABLED:
    urlpatterns.append(path("admin/", admin.site.urls))
