"""MQTT and Home Assistant: the appliance on the owner's broker (SPEC §9)."""
