autocmd BufRead,BufNewFile *.vy setfiletype voyager
