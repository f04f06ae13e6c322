from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views as accounts_views
from campaigns.delivery import tracking_views
from lib.views import serve_media

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="campaigns:project_list"), name="home"),
    path("accounts/login/", accounts_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", accounts_views.logout, name="logout"),
    path("oidc/", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("scim/v2/", include("audiences.scim.urls")),
    path("t/o/<str:token>.gif", tracking_views.open_pixel, name="track_open"),
    path("t/c/<str:token>/<int:link_id>/", tracking_views.click, name="track_click"),
    path("", include("campaigns.landing.urls")),
    path("", include("campaigns.cascade.urls")),
    path("projects/", include("campaigns.urls")),
    path("", include("audiences.urls")),
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve_media, name="media"),
]
