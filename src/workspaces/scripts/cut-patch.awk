# Cuts a patch to at most `per` bytes per file and `total` overall (bytes: run with LC_ALL=C),
# then prints one last line: \036, the indexes of the files it cut (comma-separated; the file it
# stopped in is one) and 1 if it stopped early. No line of a patch starts with \036, so that line
# cannot be mistaken for one.
BEGIN { file = -1; used = 0; cuts = ""; over = 0 }
/^diff --git / { file++; here = 0; cut = 0 }
{
  n = length($0) + 1
  if (used + n > total) { over = 1; if (!cut) cuts = cuts file ","; exit }
  if (cut) next
  if (here + n > per) { cut = 1; cuts = cuts file ","; next }
  here += n; used += n
  print
}
END { printf "\036%s %d\n", cuts, over }
