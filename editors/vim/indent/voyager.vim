" Indent by brackets: one level per open ( [ {, back for a closing one.
if exists("b:did_indent")
  finish
endif
let b:did_indent = 1

setlocal indentexpr=VoyagerIndent()
setlocal indentkeys=0},0],0),!^F,o,O

function! VoyagerIndent() abort
  let prev = prevnonblank(v:lnum - 1)
  if prev == 0
    return 0
  endif
  let line = substitute(getline(prev), '//.*$', '', '')
  let ind = indent(prev)
  let opens = len(substitute(line, '[^([{]', '', 'g'))
  let closes = len(substitute(line, '[^)\]}]', '', 'g'))
  if opens > closes
    let ind += shiftwidth()
  endif
  if getline(v:lnum) =~ '^\s*[)\]}]'
    let ind -= shiftwidth()
  endif
  return ind < 0 ? 0 : ind
endfunction

let b:undo_indent = "setlocal indentexpr< indentkeys<"
