#!/bin/sh
# Runs inside the booted test image (installed there by image/boot-test.sh only): waits for the
# appliance to answer, reports what it sees on the serial console, then powers off.
say() { echo "EVSE-BOOTTEST $*" > /dev/console; }
get() {  # URL -> "STATUS BODY…", or nothing
    /usr/lib/evse/evse-python -I -c 'import sys, urllib.request as u
r = u.urlopen(sys.argv[1], timeout=20); print(r.status, r.read().decode(errors="replace")[:400].replace("\n", " "))' "$1" 2>/dev/null
}
version() {
    /usr/lib/evse/evse-python -I -c 'import json, sys, urllib.request as u
print(json.load(u.urlopen(sys.argv[1], timeout=30))["info"]["version"])' "$1" 2>/dev/null
}

say "guest up $(cut -d' ' -f1 /proc/uptime) s after boot; waiting for the API"
deadline=$(( $(cut -d. -f1 /proc/uptime) + 900 ))
answer=""
while [ "$(cut -d. -f1 /proc/uptime)" -lt "$deadline" ]; do
    answer=$(get http://127.0.0.1:8080/api/v1/auth/me) && [ -n "$answer" ] && break
    sleep 10
done
say "API answered $(cut -d' ' -f1 /proc/uptime) s after boot"
for u in evse-growdata.service var-lib-evse.mount evse-firstboot.service evse-pigpiod-firewall.service \
         pigpiod.service evse-pilot.service \
         evse-supervisor.service evse-http.socket evse-https.socket evse-update.path avahi-daemon.service; do
    say "unit $u: $(systemctl show -p ActiveState -p SubState -p Result --value "$u" | tr '\n' ' ')"
done
say "GET http://127.0.0.1:8080/api/v1/auth/me -> ${answer:-no answer}"
v8080=$(version http://127.0.0.1:8080/openapi.json)
v80=$(version http://127.0.0.1/openapi.json)
say "GET /openapi.json info.version: port 8080 -> ${v8080:-none}, port 80 -> ${v80:-none}"
socket=$(stat -c '%a %U:%G' /run/evse/pilot.sock 2>/dev/null)
say "pilot socket /run/evse/pilot.sock: ${socket:-missing}"
say "pilot: $(journalctl -u evse-pilot.service -o cat --no-pager | grep -m1 'serving')"
say "data partition: $(df -h --output=source,size,used,target /var/lib/evse | tail -1)"
say "hostname: $(hostname); EVSE_SIM in evse.env: $(grep ^EVSE_SIM= /etc/evse/evse.env)"
say "first boot: $(tr '\n' ' ' < /boot/firmware/evse-firstboot.txt 2>/dev/null)"
say "users: $(id evse); $(id evse-pilot)"
# The supervisor's user must not be able to signal the pilot nor be in the hardware groups.
pilot_pid=$(systemctl show -p MainPID --value evse-pilot.service)
if runuser -u evse -- kill -0 "$pilot_pid" 2>/dev/null; then isolated=no; else isolated=yes; fi
say "supervisor's user cannot signal the pilot ($pilot_pid): $isolated"
say "failed units: $(systemctl list-units --failed --plain --no-legend | cut -d' ' -f1 | tr '\n' ' ')"

if [ -z "$answer" ]; then
    for u in evse-supervisor.service evse-pilot.service; do
        journalctl -u "$u" -o cat --no-pager | tail -n 25 | while read -r line; do say "journal $u: $line"; done
    done
fi

ok=1
systemctl -q is-active evse-pilot.service || ok=0
systemctl -q is-active evse-supervisor.service || ok=0
case $answer in 200\ *) ;; *) ok=0 ;; esac
[ -n "$v8080" ] || ok=0
[ "$socket" = "660 evse-pilot:evse-ipc" ] || ok=0
[ "$isolated" = yes ] || ok=0
id -nG evse | grep -qwE 'gpio|spi' && ok=0

bundle=/var/tmp/evse-update.bundle
if [ -f "$bundle" ]; then
    # What POST /api/v1/system/update does, as the supervisor's user; evse-update.service does the rest.
    staged=$(runuser -u evse -- /usr/lib/evse/evse-python -I -c 'import sys
from appliance.system.update import UpdateManager
m = UpdateManager()
s = m.stage(open(sys.argv[1], "rb"))
m.request(s, {"stations": []})
print(s.version)' "$bundle" 2>&1 | tail -1)
    say "update: staged and requested version $staged as user evse"
    status=/var/lib/evse/update/status.json
    deadline=$(( $(cut -d. -f1 /proc/uptime) + 1500 ))
    while [ "$(cut -d. -f1 /proc/uptime)" -lt "$deadline" ]; do
        grep -qE '"state": "(done|rolled_back|failed)"' "$status" 2>/dev/null && break
        sleep 10
    done
    say "update: status $(cat "$status")"
    say "update: $(journalctl -u evse-update.service -o cat --no-pager | tail -1)"
    after=$(version http://127.0.0.1:8080/openapi.json)
    say "update: API reports version ${after:-none}; /opt/evse/current -> $(readlink /opt/evse/current);" \
        "installed: $(ls /opt/evse/versions | tr '\n' ' ')"
    say "update: pilot $(systemctl is-active evse-pilot.service), supervisor $(systemctl is-active evse-supervisor.service)"
    grep -q '"state": "done"' "$status" && [ "$after" = "$staged" ] || ok=0
fi
powercut=/var/tmp/evse-powercut
if [ "$(cat "$powercut" 2>/dev/null)" = cut ]; then
    # First boot of `boot-test.sh --powercut`: let the supervisor write for a while, then the host
    # kills the whole guest. The next boot's evse-powercut-check reports what the database kept.
    echo check > "$powercut" && sync
    if [ $ok = 1 ]; then say "POWERCUT ARMED"; else say "RESULT FAIL"; systemctl poweroff; fi
    while :; do
        say "CLOCK $(date +%s.%N)"
        sleep 1
    done
fi
if [ $ok = 1 ]; then say "RESULT PASS"; else say "RESULT FAIL"; fi
systemctl poweroff
