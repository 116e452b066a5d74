# bash completion for berthctl(8).
# Verbs come from `berthctl --help`, each verb's options from
# `berthctl VERB --help`, container names from `berthctl ls --names` or,
# when berthd cannot answer, from the definition files (-c DIR, default
# /etc/containers.d), so the completion follows the program as it grows.

_berthctl_verbs()
{
        "$1" --help 2>/dev/null | awk '/^verbs:/ { v = 1; next } v && /^  [a-z]/ { print $1 }'
}

_berthctl_options()
{
        "$1" "$2" --help 2>/dev/null | grep -oE -- '--?[a-zA-Z][a-zA-Z-]*' | sort -u
}

_berthctl_names()
{
        local prog=$1 dir=$2 out
        if out=$("$prog" ls --names 2>/dev/null) && [ -n "$out" ]; then
                printf '%s\n' "$out"
                return
        fi
        [ -d "$dir" ] || return
        local f
        for f in "$dir"/*.conf; do
                [ -f "$f" ] || continue
                grep -h '^ *container ' -- "$f" 2>/dev/null
        done | awk '{ n = $2; sub(/\{.*/, "", n); gsub(/"/, "", n); if (n != "") print n }'
}

_berthctl()
{
        local cur prev prog=${COMP_WORDS[0]} verb="" dir=/etc/containers.d i
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        COMPREPLY=()

        for ((i = 1; i < COMP_CWORD; i++)); do
                case ${COMP_WORDS[i]} in
                -c | --conf-dir) dir=${COMP_WORDS[i+1]} ;;
                --conf-dir=*) dir=${COMP_WORDS[i]#--conf-dir=} ;;
                -*) ;;
                *) [ -z "$verb" ] && [ "${COMP_WORDS[i-1]}" != -c ] && [ "${COMP_WORDS[i-1]}" != --conf-dir ] &&
                        verb=${COMP_WORDS[i]} ;;
                esac
        done

        if [ -z "$verb" ]; then
                if [[ $cur == -* ]]; then
                        mapfile -t COMPREPLY < <(compgen -W '--help --version' -- "$cur")
                else
                        mapfile -t COMPREPLY < <(compgen -W "$(_berthctl_verbs "$prog")" -- "$cur")
                fi
                return 0
        fi

        case $prev in
        -o | --output)
                mapfile -t COMPREPLY < <(compgen -f -- "$cur")
                return 0 ;;
        --name | --from-checkpoint | --to | --via | --stage)
                return 0 ;;
        -c | --conf-dir | --state-dir | --run-dir | -w | --workdir)
                mapfile -t COMPREPLY < <(compgen -d -- "$cur")
                return 0 ;;
        -s | --signal)
                mapfile -t COMPREPLY < <(compgen -W 'SIGTERM SIGINT SIGQUIT SIGHUP SIGKILL SIGUSR1 SIGUSR2' -- "$cur")
                return 0 ;;
        -t) # the stop timeout of stop and restart; run's and exec's --tty takes nothing
                case $verb in stop | restart) return 0 ;; esac ;;
        --timeout | -n | --lines | -u | --user | -e | --env | --since | --until | --count | --escape)
                return 0 ;;
        --stream)
                mapfile -t COMPREPLY < <(compgen -W 'stdout stderr all' -- "$cur")
                return 0 ;;
        esac

        if [[ $cur == -* ]]; then
                mapfile -t COMPREPLY < <(compgen -W "$(_berthctl_options "$prog" "$verb")" -- "$cur")
                return 0
        fi
        case $verb in
        destroy)
                mapfile -t COMPREPLY < <(compgen -W "$("$prog" ls --all --json 2>/dev/null |
                        grep -oE '"name": *"[^"]*", *"state": *"orphaned"' | sed -E 's/"name": *"([^"]*)".*/\1/')" -- "$cur") ;;
        run | inspect | start | stop | restart | kill | logs | exec | stats | top | freeze | unfreeze | wait | health | events | \
                restore | clone | export | console | attach | checkpoint | migrate)
                mapfile -t COMPREPLY < <(compgen -W "$(_berthctl_names "$prog" "$dir")" -- "$cur") ;;
        snapshot)
                if [ "$prev" = snapshot ]; then
                        mapfile -t COMPREPLY < <(compgen -W "ls rm $(_berthctl_names "$prog" "$dir")" -- "$cur")
                elif [ "$prev" = ls ] || [ "$prev" = rm ]; then
                        mapfile -t COMPREPLY < <(compgen -W "$(_berthctl_names "$prog" "$dir")" -- "$cur")
                fi ;;
        import)
                mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
        cp) # NAME:PATH on one side, a host path on the other
                if [[ $cur == *:* ]]; then
                        return 0
                fi
                mapfile -t COMPREPLY < <(compgen -W "$(_berthctl_names "$prog" "$dir" | sed 's/$/:/')" -- "$cur")
                mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur")
                compopt -o nospace 2>/dev/null ;;
        template)
                [ "$COMP_CWORD" -ge 2 ] && [ "$prev" = template ] &&
                        mapfile -t COMPREPLY < <(compgen -W 'list ls build import remove' -- "$cur") ;;
        esac
        return 0
}

complete -F _berthctl berthctl
