"""The city's records and their rules: the database, seed data, districts and places, hospital bookings, work orders, staff actions on guides."""
