"""`python -m appliance` is the same command as `evse`."""

from appliance.cli import main

raise SystemExit(main())
