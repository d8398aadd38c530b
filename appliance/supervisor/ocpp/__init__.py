"""OCPP 1.6J: the appliance as one charge point with two connectors (SPEC §8).

The central system reaches the stations only through the core's inputs (a station cap, the
site's external limit, availability): the pilot's limits always hold under whatever it asks.
"""
