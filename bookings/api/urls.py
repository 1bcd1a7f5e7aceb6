from django.urls import path

from bookings.api import views

urlpatterns = [
    path("bookings/", views.BookingListCreateView.as_view(), name="booking-list"),
    path("bookings/<int:pk>/", views.BookingDetailView.as_view(), name="booking-detail"),
    path("bookings/<int:pk>/approve/", views.BookingApproveView.as_view(), name="booking-approve"),
    path("bookings/<int:pk>/decline/", views.BookingDeclineView.as_view(), name="booking-decline"),
    path("bookings/<int:pk>/pay/", views.BookingPayView.as_view(), name="booking-pay"),
    path("bookings/<int:pk>/cancel/", views.BookingCancelView.as_view(), name="booking-cancel"),
    path("bookings/<int:pk>/review/", views.BookingReviewView.as_view(), name="booking-review"),
    path(
        "properties/<int:pk>/reviews/",
        views.PropertyReviewsView.as_view(),
        name="property-reviews",
    ),
    path("reviews/<int:pk>/reply/", views.ReviewReplyView.as_view(), name="review-reply"),
    path("auth/me/reviews/", views.MyReviewsView.as_view(), name="my-reviews"),
]
