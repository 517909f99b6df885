#!/bin/bash
# Installs the Debian packages the VM fixtures and the tests need, when missing. Run as root.
# No service may start during installation: hosts run their own daemons inside namespaces, and a
# MariaDB or sshd started by a postinst in this machine's root namespace would be a stray server.
set -euo pipefail
if [ $# -gt 0 ]; then
  echo "usage: bash scripts/install-packages.sh   (as root; installs the Debian packages the fixtures and tests need, when missing)" >&2
  [ "$1" = -h ] || [ "$1" = --help ] && exit 0
  exit 2
fi

PACKAGES=(mariadb-server mariadb-client openssh-server openssh-client iptables heartbeat
          bridge-utils iproute2 net-tools procps psmisc util-linux haproxy socat openssl)
POLICY_RC_D=/usr/sbin/policy-rc.d

missing=()
for package in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-packages: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-packages: installing ${missing[*]}"

created_policy=no
if [ ! -e "$POLICY_RC_D" ]; then
  # invoke-rc.d asks policy-rc.d; 101 = "action not allowed", so postinst scripts start nothing.
  printf '#!/bin/sh\nexit 101\n' > "$POLICY_RC_D"
  chmod 755 "$POLICY_RC_D"
  created_policy=yes
fi
remove_policy() { [ "$created_policy" = no ] || rm -f "$POLICY_RC_D"; }
trap remove_policy EXIT

apt-get update
# --no-install-recommends: recommends would add pacemaker, rsyslog, snmp... (about 100 more packages).
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
