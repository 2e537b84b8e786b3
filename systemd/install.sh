#!/usr/bin/env bash
# Installs graph-device-agent as a hardened systemd service on a Raspberry Pi (or any Debian with
# systemd), from this source checkout. Safe to run again: it changes only what differs, and a run
# with nothing to do changes no file.
#
#   sudo ./systemd/install.sh                      install, or update after `git pull`
#   sudo ./systemd/install.sh --uninstall          remove; keep config.json, token cache and key
#   sudo ./systemd/install.sh --uninstall --purge  remove; keep only config.json
#
# What goes where:
#   /opt/graph-device-agent/                  the built app (dist/, config/ examples) + production deps
#   /usr/local/bin/graph-device-agent         the CLI (a link to dist/src/cli.js)
#   /etc/graph-device-agent/config.json       your configuration (created once from the example)
#   /etc/credstore.encrypted/graph-device-agent.token-cache-key   the token-cache key, sealed with
#                                             systemd-creds (or /etc/credstore/..., root-only, where
#                                             systemd-creds cannot seal it)
#   /etc/systemd/system/graph-device-agent.service                the unit
#   /var/lib/graph-device-agent               the token cache (created by systemd: StateDirectory=)
#   /boot/firmware/config.txt                 asked first: one dtoverlay=gpio-key line that makes the
#                                             button a gpio-keys input device (hardware/button.md)
#
# For CI and image builds: DESTDIR=/some/root installs under that root instead of / (no root
# needed, no hardware checks, `systemctl --root` instead of talking to systemd). Commands can be
# replaced: SYSTEMCTL, SYSTEMD_CREDS, NPM, NODE, RASPI_CONFIG.
set -euo pipefail

readonly UNIT=graph-device-agent.service
readonly CRED_NAME=token-cache-key
# The directories systemd searches for a bare ExecStart= name (systemd.service(5)): the unit says
# `ExecStart=node ...`, so this is the Node the service will run.
readonly SYSTEMD_EXEC_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
readonly PLACEHOLDER_CLIENT_ID=00000000-0000-0000-0000-000000000000

ROOT="${DESTDIR:-}"
ROOT="${ROOT%/}"
SYSTEMCTL="${SYSTEMCTL:-systemctl}"
SYSTEMD_CREDS="${SYSTEMD_CREDS:-systemd-creds}"
NPM="${NPM:-npm}"
RASPI_CONFIG="${RASPI_CONFIG:-raspi-config}"
NODE="${NODE:-$(PATH="$SYSTEMD_EXEC_PATH" command -v node || true)}"

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APP="$ROOT/opt/graph-device-agent"
ETC="$ROOT/etc/graph-device-agent"
CONFIG="$ETC/config.json"
SEALED_KEY="$ROOT/etc/credstore.encrypted/graph-device-agent.$CRED_NAME"
PLAIN_KEY="$ROOT/etc/credstore/graph-device-agent.$CRED_NAME"
UNIT_DIR="$ROOT/etc/systemd/system"
DROPIN_DIR="$UNIT_DIR/$UNIT.d"
PLAIN_DROPIN="$DROPIN_DIR/10-plain-credential.conf"
CLI_LINK="$ROOT/usr/local/bin/graph-device-agent"

MODE=install
PURGE=no
ASSUME_YES=no
CHANGED=no
WORK=""

say() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}

usage() {
  cat <<'EOF'
Usage: sudo ./systemd/install.sh [--yes] [--uninstall [--purge]]

  (no option)   install or update graph-device-agent as a systemd service
  --yes         answer yes to questions (enabling I2C with raspi-config, adding the button's
                dtoverlay=gpio-key line to /boot/firmware/config.txt)
  --uninstall   stop and remove the service and the app; keep config.json, the token cache and
                its key (a reinstall signs in again without a new device code)
  --purge       with --uninstall: also delete the token cache and its key (config.json stays)

Environment: DESTDIR (install under another root), SYSTEMCTL, SYSTEMD_CREDS, NPM, NODE, RASPI_CONFIG.
EOF
}

cleanup() {
  if [[ -n "$WORK" && -d "$WORK" ]]; then
    # The plain key may have passed through here: overwrite before removing where shred exists.
    find "$WORK" -type f -exec sh -c 'command -v shred >/dev/null && shred -u "$@" || rm -f "$@"' sh {} + 2>/dev/null || true
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# Root owns everything installed; in a DESTDIR run without root, the files stay the caller's.
owned_by_root() {
  if [[ "$(id -u)" == 0 ]]; then chown -R 0:0 "$@"; fi
}

# install_file SRC DEST MODE: copy only when content or mode differ (keeps re-runs change-free).
install_file() {
  local src="$1" dest="$2" mode="$3"
  if [[ -f "$dest" ]] && cmp -s "$src" "$dest" && [[ "$(stat -c %a "$dest")" == "${mode#0}" ]]; then
    return 0
  fi
  install -D -m "$mode" "$src" "$dest"
  owned_by_root "$dest"
  CHANGED=yes
}

ensure_dir() {
  local dir="$1" mode="$2"
  if [[ ! -d "$dir" ]]; then
    mkdir -p "$dir"
    CHANGED=yes
  fi
  chmod "$mode" "$dir"
  owned_by_root "$dir"
}

systemctl_do() {
  if [[ -n "$ROOT" ]]; then
    # Offline: only enable/disable make sense, and only inside the root.
    case "$1" in
      enable | disable) "$SYSTEMCTL" --root="$ROOT" "$1" "${@:2}" ;;
      *) say "DESTDIR install: skipping systemctl $*" ;;
    esac
  else
    "$SYSTEMCTL" "$@"
  fi
}

check_node() {
  [[ -n "$NODE" ]] || die "Node.js is not installed where systemd looks (/usr/local/bin, /usr/bin). Install Node 20 or newer system-wide: Debian trixie's nodejs package, or NodeSource's node_20.x for bookworm (Debian bookworm's Node 18 is too old)."
  local major
  major="$("$NODE" -p 'process.versions.node.split(".")[0]')" || die "cannot run $NODE"
  if ((major < 20)); then
    die "$NODE is Node $("$NODE" --version); graph-device-agent needs Node 20 or newer (msal-node 7). Install Node 20+ system-wide, e.g. from NodeSource."
  fi
  local interactive
  interactive="$(command -v node || true)"
  if [[ -n "$interactive" && "$(readlink -f "$interactive")" != "$(readlink -f "$NODE")" ]]; then
    warn "your shell's node ($interactive) is not the one the service will run ($NODE)."
  fi
  command -v "$NPM" >/dev/null || die "npm is not installed (Debian: apt-get install npm)."
  say "Node $("$NODE" --version) at $NODE"
  # i2c-bus and onoff are optional dependencies: without a compiler npm skips them *silently*, and
  # the OLED and button drivers then fail at run time. Better to stop here.
  local tool missing=()
  for tool in python3 make g++; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  if ((${#missing[@]})); then
    if [[ -n "$ROOT" ]]; then
      warn "missing ${missing[*]}: npm cannot compile i2c-bus and epoll."
    else
      die "missing ${missing[*]}, needed to compile i2c-bus and epoll: sudo apt-get install -y python3 make g++"
    fi
  fi
}

check_i2c() {
  if [[ -n "$ROOT" ]]; then
    say "DESTDIR install: not checking I2C on this machine"
    return 0
  fi
  if [[ -e /dev/i2c-1 ]]; then
    say "I2C bus 1 is enabled (/dev/i2c-1)"
    return 0
  fi
  if ! command -v "$RASPI_CONFIG" >/dev/null; then
    warn "/dev/i2c-1 is missing: enable I2C (dtparam=i2c_arm=on in /boot/firmware/config.txt, then reboot) before using the OLED."
    return 0
  fi
  local answer=n
  if [[ "$ASSUME_YES" == yes ]]; then
    answer=y
  elif [[ -t 0 ]]; then
    read -r -p "I2C is off (no /dev/i2c-1). Enable it now with '$RASPI_CONFIG nonint do_i2c 0'? [Y/n] " answer || answer=n
    answer="${answer:-y}"
  fi
  if [[ "$answer" == [Yy]* ]]; then
    "$RASPI_CONFIG" nonint do_i2c 0
    say "I2C enabled (if /dev/i2c-1 is still missing, reboot)"
  else
    warn "I2C stays off: the OLED will not work until you run 'sudo $RASPI_CONFIG nonint do_i2c 0' (or rerun with --yes)."
  fi
}

has_group() {
  if [[ -n "$ROOT" ]]; then
    grep -q "^$1:" "$ROOT/etc/group" 2>/dev/null
  else
    getent group "$1" >/dev/null
  fi
}

check_groups() {
  # The unit's SupplementaryGroups=gpio i2c input: a missing group stops the service from starting at all.
  local group
  for group in gpio i2c input; do
    has_group "$group" && continue
    if [[ -n "$ROOT" ]]; then
      warn "group '$group' does not exist in $ROOT/etc/group: the service will fail to start (216/GROUP) until it does."
    else
      groupadd --system "$group"
      warn "created the missing group '$group'. Raspberry Pi OS's udev rules give it the GPIO/I2C/input devices; elsewhere they stay root-only until a udev rule says otherwise."
    fi
  done
}

# A setting of config.json's button section, or the default: bcmPin, evdevKeycode, driver.
button_setting() {
  local key="$1" default="$2"
  "$NODE" -e '
    const fs = require("fs");
    let value;
    try { value = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).button[process.argv[2]]; } catch { value = undefined; }
    process.stdout.write(String(Number.isInteger(value) || typeof value === "string" ? value : process.argv[3]));
  ' "$CONFIG" "$key" "$default"
}

# The button as a gpio-keys input device: the kernel sets the pull-up and debounces, and the agent
# reads /dev/input/eventN with no sysfs GPIO and no native addon (button.driver "auto" takes it).
# One line in config.txt, for the pin in config.json, added once: a line for that pin already
# there is left alone (and checked). keycode is never 116 (KEY_POWER, the overlay's default):
# systemd-logind powers the Pi off on it.
offer_gpio_key_overlay() {
  local boot_config="$ROOT/boot/firmware/config.txt"
  [[ -f "$boot_config" || ! -f "$ROOT/boot/config.txt" ]] || boot_config="$ROOT/boot/config.txt"
  if [[ ! -f "$boot_config" ]]; then
    say "no ${boot_config#"$ROOT"} here (not a Raspberry Pi?): the button's gpio-key overlay is not offered"
    return 0
  fi
  local pin keycode line
  pin="$(button_setting bcmPin 17)"
  keycode="$(button_setting evdevKeycode 256)"
  if [[ "$keycode" == 116 ]]; then
    warn "button.evdevKeycode is 116 (KEY_POWER) in $CONFIG: systemd-logind would shut the Pi down on every press. Not adding the overlay; set it to 256 (BTN_0) and run this again."
    return 0
  fi
  line="dtoverlay=gpio-key,gpio=$pin,active_low=1,gpio_pull=up,keycode=$keycode,label=graph-device-agent"

  local existing
  existing="$(grep -E "^[[:space:]]*dtoverlay=gpio-key,(.*,)?gpio=$pin(,|[[:space:]]*$)" "$boot_config" || true)"
  if [[ -n "$existing" ]]; then
    if [[ "$existing" == "$line" ]]; then
      say "the button's overlay is in ${boot_config#"$ROOT"} already"
    elif ! grep -qE "keycode=[0-9]+" <<<"$existing" || grep -qE "keycode=116([^0-9]|$)" <<<"$existing"; then
      warn "${boot_config#"$ROOT"} has '$existing': it sends KEY_POWER (116, the overlay's default), and systemd-logind shuts the Pi down on a press. Change it to: $line (then reboot)."
    else
      say "keeping the gpio-key line for GPIO$pin in ${boot_config#"$ROOT"}: $existing (button.evdevKeycode must match its keycode)"
    fi
    return 0
  fi

  local answer=n
  if [[ "$ASSUME_YES" == yes ]]; then
    answer=y
  elif [[ -t 0 ]]; then
    read -r -p "Make the button on GPIO$pin a gpio-keys input device (recommended: hardware/button.md)? Adds '$line' to ${boot_config#"$ROOT"}. [Y/n] " answer || answer=n
    answer="${answer:-y}"
  fi
  if [[ "$answer" != [Yy]* ]]; then
    say "not changing ${boot_config#"$ROOT"}. For the button as an input device (hardware/button.md), add this line and reboot:"
    printf '    %s\n' "$line"
    return 0
  fi
  # The last section may be conditional ([pi4], [cm5]): the line is for every board.
  local last_section
  last_section="$(grep -E '^[[:space:]]*\[' "$boot_config" | tail -n 1 | tr -d '[:space:]' || true)"
  local end_line=no
  if [[ -s "$boot_config" && -n "$(tail -c 1 "$boot_config")" ]]; then end_line=yes; fi
  {
    [[ "$end_line" == no ]] || printf '\n'
    if [[ -n "$last_section" && "$last_section" != "[all]" ]]; then
      printf '[all]\n'
    fi
    printf '# graph-device-agent: the button as a gpio-keys input device (keycode %s is mapped by nothing; never 116)\n' "$keycode"
    printf '%s\n' "$line"
  } >>"$boot_config"
  say "added '$line' to ${boot_config#"$ROOT"}: reboot for the button to become an input device (sudo reboot)"
  if [[ "$(button_setting driver auto)" == gpio ]]; then
    warn "button.driver is \"gpio\" in $CONFIG: after the reboot the kernel owns GPIO$pin and sysfs cannot export it (EBUSY). Set it to \"auto\" (or \"evdev\")."
  fi
}

# Builds dist/ in the checkout when it is missing or older than its sources. Runs as the user who
# called sudo, so the checkout does not fill up with root-owned files.
build_if_needed() {
  local stale=no
  if [[ ! -f "$SRC/dist/src/cli.js" ]]; then
    stale=yes
  elif [[ -n "$(find "$SRC/src" "$SRC/package.json" "$SRC/package-lock.json" "$SRC"/tsconfig*.json -newer "$SRC/dist/src/cli.js" -print -quit 2>/dev/null)" ]]; then
    stale=yes
  fi
  [[ "$stale" == yes ]] || return 0
  say "building dist/ in $SRC"
  local as_user=()
  if [[ "$(id -u)" == 0 && -n "${SUDO_USER:-}" && "${SUDO_USER}" != root ]]; then
    # HOME too: sudo leaves root's, and npm would put its cache in /root/.npm.
    as_user=(runuser -u "$SUDO_USER" -- env "HOME=$(getent passwd "$SUDO_USER" | cut -d: -f6)")
  fi
  # Only the compiler is needed to build: --ignore-scripts skips compiling the native addons here
  # (the installed copy compiles its own). Existing node_modules (a developer's) are kept.
  if [[ ! -x "$SRC/node_modules/.bin/tsc" ]]; then
    (cd "$SRC" && "${as_user[@]}" "$NPM" ci --ignore-scripts --no-audit --no-fund)
  fi
  (cd "$SRC" && "${as_user[@]}" "$NPM" run build)
  [[ -f "$SRC/dist/src/cli.js" ]] || die "the build did not produce dist/src/cli.js"
}

# The installed package.json is the checkout's without `prepare`: npm runs the root package's
# `prepare` on `npm ci`, and it calls tsc, a devDependency that --omit=dev leaves out. The
# dependencies' own install scripts (i2c-bus and epoll compile with node-gyp) still run.
installed_package_json() {
  "$NODE" -e '
    const fs = require("fs");
    const pkg = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    if (pkg.scripts) delete pkg.scripts.prepare;
    process.stdout.write(JSON.stringify(pkg, null, 2) + "\n");
  ' "$SRC/package.json"
}

install_app() {
  say "installing the app into ${APP}"
  ensure_dir "$APP" 0755
  installed_package_json >"$WORK/package.json"
  install_file "$WORK/package.json" "$APP/package.json" 0644
  install_file "$SRC/package-lock.json" "$APP/package-lock.json" 0644

  local tree
  for tree in dist/src config; do
    if [[ -d "$APP/$tree" ]] && diff -r -q "$SRC/$tree" "$APP/$tree" >/dev/null 2>&1; then
      continue
    fi
    rm -rf "${APP:?}/$tree"
    mkdir -p "$(dirname "$APP/$tree")"
    cp -R "$SRC/$tree" "$APP/$tree"
    CHANGED=yes
  done
  find "$APP/dist" "$APP/config" -type d -exec chmod 0755 {} +
  find "$APP/dist" "$APP/config" -type f -exec chmod 0644 {} +
  chmod 0755 "$APP/dist/src/cli.js"
  owned_by_root "$APP/dist" "$APP/config"

  # Production dependencies, again only when the lockfile or Node's ABI changed (a Node upgrade
  # needs the native addons rebuilt).
  local stamp
  stamp="$(sha256sum <"$APP/package-lock.json" | cut -d' ' -f1) abi-$("$NODE" -p process.versions.modules)"
  if [[ ! -d "$APP/node_modules" || "$(cat "$APP/.deps-stamp" 2>/dev/null)" != "$stamp" ]]; then
    say "installing production dependencies (npm ci --omit=dev; compiles i2c-bus and epoll)"
    rm -rf "${APP:?}/node_modules"
    (cd "$APP" && "$NPM" ci --omit=dev --no-audit --no-fund)
    if ! (cd "$APP" && "$NODE" -e 'require("i2c-bus"); require("onoff")') >/dev/null 2>&1; then
      warn "i2c-bus or onoff did not build: the ssd1306 display and gpio button drivers will not load (see npm's output above)."
    fi
    printf '%s\n' "$stamp" >"$APP/.deps-stamp"
    chmod 0644 "$APP/.deps-stamp"
    owned_by_root "$APP/node_modules" "$APP/.deps-stamp"
    CHANGED=yes
  fi

  if [[ "$(readlink "$CLI_LINK" 2>/dev/null)" != /opt/graph-device-agent/dist/src/cli.js ]]; then
    mkdir -p "$(dirname "$CLI_LINK")"
    ln -sfn /opt/graph-device-agent/dist/src/cli.js "$CLI_LINK"
    CHANGED=yes
  fi
}

install_config() {
  ensure_dir "$ETC" 0755
  if [[ -e "$CONFIG" ]]; then
    say "keeping your $CONFIG"
    return 0
  fi
  # Readable by the service's dynamic user; it holds a client id, which is not a secret.
  install -m 0644 "$SRC/config/config.example.json" "$CONFIG"
  owned_by_root "$CONFIG"
  CHANGED=yes
  say "created $CONFIG from config/config.example.json"
}

install_key() {
  if [[ -e "$SEALED_KEY" || -e "$PLAIN_KEY" ]]; then
    say "keeping the existing token-cache key"
    return 0
  fi
  local key="$WORK/key"
  "$NODE" "$APP/dist/src/cli.js" keygen --out "$key" >/dev/null
  ensure_dir "$(dirname "$SEALED_KEY")" 0700
  # Sealed with the TPM2 where the board has one, else with this host's key
  # (/var/lib/systemd/credential.secret); the name is part of the seal.
  if "$SYSTEMD_CREDS" encrypt --name="$CRED_NAME" "$key" "$SEALED_KEY"; then
    chmod 0600 "$SEALED_KEY"
    owned_by_root "$SEALED_KEY"
    say "created the token-cache key, sealed with systemd-creds: $SEALED_KEY"
  else
    rm -f "$SEALED_KEY"
    rmdir "$(dirname "$SEALED_KEY")" 2>/dev/null || true
    ensure_dir "$(dirname "$PLAIN_KEY")" 0700
    install -m 0400 "$key" "$PLAIN_KEY"
    owned_by_root "$PLAIN_KEY"
    warn "systemd-creds could not seal the key: stored it unencrypted, readable by root only, in $PLAIN_KEY."
  fi
  CHANGED=yes
}

install_unit() {
  install_file "$SRC/systemd/$UNIT" "$UNIT_DIR/$UNIT" 0644
  if [[ -e "$PLAIN_KEY" ]]; then
    # LoadCredentialEncrypted= (empty) drops the unit's sealed credential; then the plain file.
    printf '%s\n' \
      '# Written by install.sh: systemd-creds could not seal the token-cache key on this host.' \
      '[Service]' \
      'LoadCredentialEncrypted=' \
      "LoadCredential=$CRED_NAME:/etc/credstore/graph-device-agent.$CRED_NAME" >"$WORK/plain.conf"
    ensure_dir "$DROPIN_DIR" 0755
    install_file "$WORK/plain.conf" "$PLAIN_DROPIN" 0644
  fi
}

start_service() {
  [[ -n "$ROOT" ]] || systemctl_do daemon-reload
  systemctl_do enable "$UNIT"
  if grep -q "\"clientId\": *\"$PLACEHOLDER_CLIENT_ID\"" "$CONFIG"; then
    say "not starting yet: set auth.clientId in $CONFIG, then: sudo systemctl start graph-device-agent"
  elif [[ "$CHANGED" == yes ]]; then
    systemctl_do restart "$UNIT"
  else
    systemctl_do start "$UNIT"
  fi
}

do_install() {
  [[ -f "$SRC/package.json" && -f "$SRC/systemd/$UNIT" ]] || die "run this from a graph-device-agent checkout ($SRC has no package.json or systemd/$UNIT)"
  check_node
  check_i2c
  check_groups
  build_if_needed
  # Scratch space; the plain key passes through it, so prefer /run (RAM) over an SD card's /tmp.
  local scratch="${TMPDIR:-/tmp}"
  if [[ -w /run ]]; then scratch=/run; fi
  WORK="$(mktemp -d -p "$scratch" graph-device-agent-install.XXXXXX)"
  install_app
  install_config
  offer_gpio_key_overlay
  install_key
  install_unit
  start_service
  say "done. Follow the log with:"
  printf '    journalctl -u graph-device-agent -f\n'
  # For automation (fleet/'s Ansible role reports "changed" from this line).
  if [[ "$CHANGED" == yes ]]; then say "result: changed"; else say "result: unchanged"; fi
}

do_uninstall() {
  if [[ -e "$UNIT_DIR/$UNIT" ]]; then
    [[ -n "$ROOT" ]] || systemctl_do stop "$UNIT" || true
    systemctl_do disable "$UNIT" || true
  fi
  rm -f "$UNIT_DIR/$UNIT" "$PLAIN_DROPIN"
  rmdir "$DROPIN_DIR" 2>/dev/null || true
  [[ -n "$ROOT" ]] || systemctl_do daemon-reload
  rm -rf "${APP:?}"
  if [[ -L "$CLI_LINK" ]]; then rm -f "$CLI_LINK"; fi
  if [[ "$PURGE" == yes ]]; then
    # DynamicUser= keeps the state in /var/lib/private/; /var/lib/graph-device-agent links to it.
    rm -rf "$ROOT/var/lib/graph-device-agent" "$ROOT/var/lib/private/graph-device-agent"
    rm -f "$SEALED_KEY" "$PLAIN_KEY"
    say "removed the app, the token cache and its key; kept $CONFIG"
  else
    say "removed the app; kept $CONFIG, the token cache (/var/lib/graph-device-agent) and its key (--purge removes them)"
  fi
}

main() {
  local invocation="$0 $*"
  while (($#)); do
    case "$1" in
      --uninstall) MODE=uninstall ;;
      --purge) PURGE=yes ;;
      --yes | -y) ASSUME_YES=yes ;;
      -h | --help)
        usage
        exit 0
        ;;
      *)
        usage >&2
        exit 64
        ;;
    esac
    shift
  done
  [[ "$PURGE" == no || "$MODE" == uninstall ]] || die "--purge goes with --uninstall"
  if [[ -z "$ROOT" && "$(id -u)" != 0 ]]; then
    die "run as root: sudo $invocation"
  fi
  umask 022
  if [[ "$MODE" == uninstall ]]; then do_uninstall; else do_install; fi
}

main "$@"
