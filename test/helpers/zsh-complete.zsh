#!/usr/bin/env zsh -f
# Drives real zsh completion: zsh-complete.zsh FPATH_DIR LINE... types each LINE followed by TAB
# into an interactive zsh on a pty (compinit, FPATH_DIR in fpath) and prints the candidates the
# completion functions offered, as "N:candidate" lines (N counts the LINEs from 1).
zmodload zsh/zpty
local dir=$1; shift
local out=$(mktemp)
zpty z zsh -f -i
zpty -w z "PROMPT='' RPROMPT=''; unsetopt beep auto_menu; fpath=(${(q)dir} \$fpath); autoload -U compinit; compinit -u -D"
# compadd records what it adds (the usual capture trick) in the file, and adds it.
zpty -w z "_kb_out=${(q)out}; _kb_n=0"
zpty -w z 'compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  typeset -a __hits; builtin compadd -A __hits "$@"; local ret=$?
  (( $#__hits )) && print -lr -- "$_kb_n:"${^__hits} >> $_kb_out
  return $ret
}'
# TAB completes, then says so on the terminal; the line is then cleared and a fresh prompt awaited,
# so each case ends before the next is typed (completion would flush typeahead) and no completion
# state carries over.
zpty -w z '_kb_capture() { (( ++_kb_n )); zle complete-word; print -r -- "MARK-$_kb_n-end"; }'
zpty -w z "zle -N _kb_capture; bindkey '^I' _kb_capture; zstyle ':completion:*' list-grouped false"
zpty -w z 'print -r -- MARK''-setup'
local line n=0
while zpty -r z line; do [[ $line == *MARK-setup* ]] && break; done
for cmdline in "$@"; do
  (( n++ ))
  zpty -w -n z "$cmdline"$'\t'
  while zpty -r z line; do [[ $line == *MARK-$n-end* ]] && break; done
  zpty -w -n z $'\x15'
  zpty -w z "print -r -- MARK-$n-fresh''line"
  while zpty -r z line; do [[ $line == *MARK-$n-freshline* ]] && break; done
done
zpty -d z
cat $out
rm -f $out
