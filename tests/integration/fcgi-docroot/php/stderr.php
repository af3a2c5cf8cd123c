<?php
// Two messages on FastCGI's STDERR (fastcgi.logging), then an answer.
error_log('first message from php');
error_log('second message from php');
header('Content-Type: text/plain');
echo "logged\n";
