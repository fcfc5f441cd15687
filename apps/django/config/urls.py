from django.contrib import admin
from django.urls import path

from notes import views

# /health/live, /health/ready and /metrics are answered by core.middleware.HealthMetricsMiddleware.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("notes", views.collection, name="notes"),
    path("notes/<int:pk>", views.item, name="note"),
]
