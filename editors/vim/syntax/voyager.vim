" Vim syntax file
" Language: Voyager (.vy)
" Keep in step with src/syntax/words.rs (tests/grammar.rs checks the
" keywords and constructors here against it, and every prelude name).

if exists("b:current_syntax")
  finish
endif

syn keyword voyagerConditional if else match when
syn keyword voyagerRepeat for in while
syn keyword voyagerStatement return break continue
syn keyword voyagerInclude import
syn keyword voyagerOperatorWord and or not
syn keyword voyagerBoolean true false
syn keyword voyagerConstant nil
syn keyword voyagerStorage let fn action interest observe pass nextgroup=voyagerDeclName skipwhite

syn match voyagerDeclName "\<[A-Za-z_][A-Za-z0-9_]*\>" contained
syn match voyagerTopic +"[^"]*"+ contained
syn match voyagerFilter +\<\(interest\|observe\|pass\)\>\s\+"[^"]*"+ contains=voyagerFilterWord,voyagerTopic
syn keyword voyagerFilterWord interest observe pass contained

syn keyword voyagerConstructor call data seq conc promise defer delay void timeout catch ensure then retrying noop
syn keyword voyagerBuiltin print len str int float type_of keys values get push pop range sort reverse slice join split upper lower trim starts_with ends_with replace abs min max now assert fail retry
syn keyword voyagerBuiltin map filter reduce each any all find sum enumerate flat_map
syn keyword voyagerBuiltin sh read_file write_file http list_dir glob path_exists append_file make_dir remove_file remove_dir
syn keyword voyagerBuiltin regex_match regex_find regex_find_all regex_replace regex_split
syn keyword voyagerBuiltin format_time parse_time time_parts make_time add_days add_months format_number pad_start pad_end
syn keyword voyagerBuiltin try_call
syn keyword voyagerBuiltin args param flag env json_encode json_decode eprint exit uuid
" `contains` is an argument of :syn keyword, so it cannot be listed there.
syn match voyagerBuiltin "\<contains\>"

syn match voyagerDuration "\<\d[0-9_]*\(ms\|s\|m\|h\)\>"
syn match voyagerNumber "\<0[xX][0-9a-fA-F_]\+\>"
syn match voyagerNumber "\<\d[0-9_]*\>"
syn match voyagerFloat "\<\d[0-9_]*\.\d[0-9_]*\([eE][+-]\=\d\+\)\=\>"
syn match voyagerFloat "\<\d[0-9_]*[eE][+-]\=\d\+\>"

" An action's resource clause and retry policy, `limit 1 per host rate 2/s
" retry 3 backoff 2s priority 5`, between its parameters and its body: the words are
" names everywhere else.
syn match voyagerResource "\()\s*\)\@<=\<\(limit\|rate\|per\|retry\|backoff\|priority\)\>[^{}]*\ze{" contains=voyagerResourceWord,voyagerDuration,voyagerNumber,voyagerOperator
syn keyword voyagerResourceWord limit rate per retry backoff priority contained

" A schedule, `schedule report cron "0 9 * * *" tz "UTC" overlap skip {`: its
" words are names everywhere else.
syn match voyagerSchedule "^\s*\<schedule\s\+\h\w*\s\+\(every\|cron\)\>[^{]*\ze{" contains=voyagerScheduleWord,voyagerDuration,voyagerString
syn keyword voyagerScheduleWord schedule every cron tz overlap skip allow contained

syn match voyagerOperator "=>\|==\|!=\|<=\|>=\|+=\|-=\|\.\.\|[-+*/%<>=]"

" Strings end at their line (as the language's do), so an unterminated one
" colours no further. Interpolations hold expressions.
syn match voyagerBadEscape +\\[^ntr\\"{}]+ contained
syn match voyagerEscape +\\[ntr\\"{}]\|\\u{\x\{1,6}}+ contained
syn region voyagerInterpolation matchgroup=voyagerInterpDelim start=+{+ end=+}+ contained oneline contains=TOP
syn region voyagerString start=+"+ skip=+\\\\\|\\"+ end=+"+ end=+$+ oneline contains=voyagerEscape,voyagerBadEscape,voyagerInterpolation
" Triple-quoted strings span lines and are raw: no escapes, no interpolation.
syn region voyagerString start=+"""+ end=+"""+

syn keyword voyagerTodo TODO FIXME XXX NOTE contained
syn match voyagerLineComment "//.*$" contains=voyagerTodo
syn region voyagerBlockComment start="/\*" end="\*/" contains=voyagerBlockComment,voyagerTodo

hi def link voyagerConditional Conditional
hi def link voyagerRepeat Repeat
hi def link voyagerStatement Statement
hi def link voyagerInclude Include
hi def link voyagerOperatorWord Keyword
hi def link voyagerBoolean Boolean
hi def link voyagerConstant Constant
hi def link voyagerStorage StorageClass
hi def link voyagerFilterWord StorageClass
hi def link voyagerResourceWord Keyword
hi def link voyagerScheduleWord Keyword
hi def link voyagerDeclName Function
hi def link voyagerTopic Label
hi def link voyagerConstructor Special
hi def link voyagerBuiltin Function
hi def link voyagerDuration Number
hi def link voyagerNumber Number
hi def link voyagerFloat Float
hi def link voyagerOperator Operator
hi def link voyagerString String
hi def link voyagerEscape SpecialChar
hi def link voyagerBadEscape Error
hi def link voyagerInterpDelim Delimiter
hi def link voyagerTodo Todo
hi def link voyagerLineComment Comment
hi def link voyagerBlockComment Comment

let b:current_syntax = "voyager"
