#!/bin/sh
# What the package's sysusers.d and tmpfiles.d files do, for a machine
# that runs modmilterd from the build tree (./run.sh): the modmilter
# user and the directories of etc/modmilter.yaml. Needs root.
set -e
getent passwd modmilter >/dev/null ||
	useradd --system --home-dir /var/lib/modmilter --no-create-home \
	    --shell /usr/sbin/nologin --user-group modmilter
for d in /run/modmilter /var/lib/modmilter /var/lib/modmilter/store /var/lib/modmilter/mime-saved; do
	mkdir -p "$d"
	chown modmilter:modmilter "$d"
	chmod 0750 "$d"
done
