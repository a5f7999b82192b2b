package cli

import (
	"fmt"
	"strings"
)

func runCompletion(e *env) int {
	if len(e.args) != 1 {
		fmt.Fprintln(e.stderr, "usage: nexusctl completion bash|zsh|fish")
		return ExitUsage
	}
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	flagsOf := func(c *command) string {
		var fs []string
		for _, f := range c.flags {
			fs = append(fs, "--"+f.name)
		}
		return strings.Join(append(fs, "--help"), " ")
	}
	switch e.args[0] {
	case "bash":
		fmt.Fprintln(e.stdout, "# bash completion for nexusctl: source <(nexusctl completion bash)")
		fmt.Fprintln(e.stdout, "_nexusctl() {")
		fmt.Fprintln(e.stdout, `  local cur=${COMP_WORDS[COMP_CWORD]}`)
		fmt.Fprintln(e.stdout, `  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=($(compgen -W "`+strings.Join(names, " ")+`" -- "$cur")); return; fi`)
		fmt.Fprintln(e.stdout, `  case "${COMP_WORDS[1]}" in`)
		for _, c := range commands {
			fmt.Fprintf(e.stdout, "    %s) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\"));;\n", c.name, flagsOf(c))
		}
		fmt.Fprintln(e.stdout, "  esac")
		fmt.Fprintln(e.stdout, "}")
		fmt.Fprintln(e.stdout, "complete -o default -F _nexusctl nexusctl")
	case "zsh":
		fmt.Fprintln(e.stdout, "#compdef nexusctl")
		fmt.Fprintln(e.stdout, "# zsh completion for nexusctl: nexusctl completion zsh > \"${fpath[1]}/_nexusctl\"")
		fmt.Fprintln(e.stdout, "_nexusctl() {")
		fmt.Fprintln(e.stdout, "  if (( CURRENT == 2 )); then")
		fmt.Fprint(e.stdout, "    local -a cmds; cmds=(")
		for _, c := range commands {
			fmt.Fprintf(e.stdout, " '%s:%s'", c.name, strings.ReplaceAll(c.summary, "'", ""))
		}
		fmt.Fprintln(e.stdout, " )")
		fmt.Fprintln(e.stdout, "    _describe 'command' cmds; return")
		fmt.Fprintln(e.stdout, "  fi")
		fmt.Fprintln(e.stdout, "  case ${words[2]} in")
		for _, c := range commands {
			fmt.Fprintf(e.stdout, "    %s) compadd -- %s;;\n", c.name, flagsOf(c))
		}
		fmt.Fprintln(e.stdout, "  esac")
		fmt.Fprintln(e.stdout, "}")
		fmt.Fprintln(e.stdout, `_nexusctl "$@"`)
	case "fish":
		fmt.Fprintln(e.stdout, "# fish completion for nexusctl: nexusctl completion fish | source")
		for _, c := range commands {
			fmt.Fprintf(e.stdout, "complete -c nexusctl -n __fish_use_subcommand -a %s -d '%s'\n", c.name, strings.ReplaceAll(c.summary, "'", ""))
			for _, f := range c.flags {
				fmt.Fprintf(e.stdout, "complete -c nexusctl -n '__fish_seen_subcommand_from %s' -l %s -d '%s'\n", c.name, f.name, strings.ReplaceAll(f.help, "'", ""))
			}
		}
	default:
		fmt.Fprintf(e.stderr, "nexusctl completion: unknown shell %q (bash, zsh or fish)\n", e.args[0])
		return ExitUsage
	}
	return ExitOK
}
