# What the bench scripts share; each sources it first: . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Messages start with bench/NAME.sh, the script that sourced this.
SCRIPT="bench/$(basename "$0")"

# The script's leading comment, however long (it is its --help).
usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; }

# A wrong use: the message on stderr, exit 2, before anything is built or measured.
bad_usage() { echo "$SCRIPT: $*" >&2; exit 2; }

# NAME VALUE REGEX WHAT EXAMPLE: VALUE must be a comma-separated list of REGEX matches.
check_list() {
  [[ "$2" =~ ^($3)(,($3))*$ ]] || bad_usage "$1=$2: give $4, separated by commas (e.g. $1=$5)"
}

# The first argument of the A/B scripts.
check_rounds() {
  [[ "$1" =~ ^[1-9][0-9]*$ ]] || bad_usage "ROUNDS (the first argument) must be a whole number of at least 1, got \"$1\""
}

# Each argument must be a jar that exists.
check_jars() {
  local jar
  for jar in "$@"; do
    [ -f "$jar" ] || bad_usage "no such jar: $jar"
  done
}

# The median of the numbers on stdin, one a line.
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
