"""The front desk pages: login, the queue, a request, exports and the phone intake."""
