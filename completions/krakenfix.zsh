
#compdef krakenfix

_krakenfix_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _KRAKENFIX_COMPLETE=complete_zsh krakenfix)
}

compdef _krakenfix_completion krakenfix

