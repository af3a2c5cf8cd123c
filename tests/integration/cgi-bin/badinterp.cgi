#!/nonexistent/interpreter
# badinterp.cgi: execve fails (no such interpreter): the child exits 127.
