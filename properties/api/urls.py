from django.urls import path

from properties.api import ical_views, views

p = "properties/<int:pk>/"
urlpatterns = [
    path("amenities/", views.AmenityListView.as_view(), name="amenity-list"),
    path("properties/", views.PropertyListCreateView.as_view(), name="property-list"),
    path("properties/mine/", views.MyPropertiesView.as_view(), name="property-mine"),
    # p itself (read, edit, archive): negotiation.api.urls, as archiving ends deals
    path(p + "publish/", views.PublishView.as_view(), name="property-publish"),
    path(p + "unlist/", views.UnlistView.as_view(), name="property-unlist"),
    path(p + "ical-token/", views.RotateIcalTokenView.as_view(), name="property-ical-token"),
    path(p + "photos/", views.PhotoListCreateView.as_view(), name="property-photos"),
    path(p + "photos/order/", views.PhotoOrderView.as_view(), name="property-photo-order"),
    path(p + "photos/<int:photo_id>/", views.PhotoDetailView.as_view(), name="property-photo"),
    path(
        p + "photos/<int:photo_id>/cover/",
        views.PhotoCoverView.as_view(),
        name="property-photo-cover",
    ),
    path(p + "availability/", views.AvailabilityView.as_view(), name="property-availability"),
    path(p + "blocks/", views.BlockListCreateView.as_view(), name="property-blocks"),
    path(p + "blocks/<int:block_id>/", views.BlockDetailView.as_view(), name="property-block"),
    path(p + "rates/", views.RateListCreateView.as_view(), name="property-rates"),
    path(p + "rates/<int:rate_id>/", views.RateDetailView.as_view(), name="property-rate"),
    path(p + "quote/", views.QuoteView.as_view(), name="property-quote"),
    path(p + "calendar.ics", ical_views.CalendarExportView.as_view(), name="property-calendar"),
    path(p + "feeds/", ical_views.FeedListCreateView.as_view(), name="property-feeds"),
    path(p + "feeds/<int:feed_id>/", ical_views.FeedDetailView.as_view(), name="property-feed"),
    path(
        p + "feeds/<int:feed_id>/sync/",
        ical_views.FeedSyncView.as_view(),
        name="property-feed-sync",
    ),
]
