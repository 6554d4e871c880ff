"""CSW 2.0.2 discovery service (pycsw) over the ISO 19139 records of the published data sets."""
