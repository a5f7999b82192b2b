# Sourced by the scripts in this directory (from the repository root): the
# one rule for installing the Node fixtures. npm ci runs when node-ipc is
# missing or package-lock.json is newer than the last install.
install_fixtures() {
  if [ ! -d node-fixtures/node_modules/@nexus-js/node-ipc ] || [ node-fixtures/package-lock.json -nt node-fixtures/node_modules/.package-lock.json ]; then
    (cd node-fixtures && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
