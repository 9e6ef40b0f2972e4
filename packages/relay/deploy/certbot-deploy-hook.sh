#!/bin/sh
# certbot deploy hook for lifeline-relay (see the package README, "TLS").
# Install: install -m 0755 certbot-deploy-hook.sh /etc/letsencrypt/renewal-hooks/deploy/lifeline-relay
# certbot runs it after every issuance and renewal with RENEWED_LINEAGE set to
# /etc/letsencrypt/live/NAME. The relay runs as a DynamicUser and cannot read
# /etc/letsencrypt (root only): this copies the pair into its StateDirectory, owned
# by the relay's user, each file by rename so the relay never reads half a file.
# The relay sees the new files and loads them without dropping connections; the
# reload is sent too, for a relay whose directory watch has failed.
set -eu
: "${RENEWED_LINEAGE:?run by certbot, or set RENEWED_LINEAGE=/etc/letsencrypt/live/NAME}"
state=/var/lib/lifeline-relay
dir="$state/tls"
# the StateDirectory exists once the service has started (even if it then stopped
# for want of a certificate); its owner is the relay's user
owner=$(stat -L -c %u "$state")
group=$(stat -L -c %g "$state")
install -d -m 0700 -o "$owner" -g "$group" "$dir"
for file in fullchain.pem privkey.pem; do
  install -m 0600 -o "$owner" -g "$group" "$RENEWED_LINEAGE/$file" "$dir/.$file.new"
  mv -f "$dir/.$file.new" "$dir/$file"
done
systemctl reload lifeline-relay 2>/dev/null || true
