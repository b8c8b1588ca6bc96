#!/bin/sh
# Build the app's copy of GOV.UK Frontend (the design system), without the GOV.UK brand.
#
# GOV.UK Frontend is MIT licensed, but its typeface, GDS Transport, is licensed for GOV.UK services only,
# and the crown and GOV.UK logo are GOV.UK's. So the stylesheet is compiled from the package's Sass with
# Arial and no @font-face rules, and only the JavaScript and the licence are copied; fonts and images are not.
#
#   npm install --prefix /tmp/pcc-sass sass@1
#   npm pack govuk-frontend@6.6.0 && tar xzf govuk-frontend-6.6.0.tgz -C /tmp/npmv/govuk-frontend-6.6.0
#   GOVUK_FRONTEND=/tmp/npmv/govuk-frontend-6.6.0/package SASS=/tmp/pcc-sass/node_modules/.bin/sass \
#       scripts/build_frontend.sh
#
# Writes static/vendor/govuk-frontend/ (committed: the app needs no Node to run).
set -eu
GOVUK_FRONTEND=${GOVUK_FRONTEND:-/tmp/npmv/govuk-frontend-6.6.0/package}
SASS=${SASS:-sass}
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/static/vendor/govuk-frontend"
mkdir -p "$out"
entry=$(mktemp --suffix=.scss)
trap 'rm -f "$entry"' EXIT
cat > "$entry" <<'SCSS'
// Arial, not GDS Transport (licensed for GOV.UK only); no @font-face; no images from GOV.UK's assets.
@use "govuk" with (
  $govuk-font-family: (arial, sans-serif),
  $govuk-include-default-font-face: false,
  $govuk-assets-path: "/static/vendor/govuk-frontend/assets/"
);
SCSS
"$SASS" --no-source-map --style=compressed --quiet-deps --silence-deprecation=import \
    --load-path="$GOVUK_FRONTEND/dist" --load-path="$GOVUK_FRONTEND/dist/govuk" \
    "$entry" "$out/govuk-frontend.min.css"
# The footer's crown (govuk-footer__copyright-logo, unused here) points at an image this copy does not hold:
# drop the reference, or collectstatic's manifest storage fails on the missing file.
sed -i 's|url("[^"]*govuk-frontend/assets/images/govuk-crest\.svg")|none|g' "$out/govuk-frontend.min.css"
cp "$GOVUK_FRONTEND/dist/govuk/govuk-frontend.min.js" "$out/govuk-frontend.min.js"
version=$(sed -n 's/^ *"version": "\(.*\)",$/\1/p' "$GOVUK_FRONTEND/package.json")
printf '%s\n' "$version" > "$out/VERSION"
if grep -q "GDS Transport\|@font-face\|url(\"/static" "$out/govuk-frontend.min.css"; then
    echo "the compiled stylesheet still names GDS Transport or a @font-face" >&2
    exit 1
fi
echo "GOV.UK Frontend $version -> $out"
