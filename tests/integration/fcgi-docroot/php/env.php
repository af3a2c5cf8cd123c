<?php
// The request as PHP sees it: every string in $_SERVER as NAME=value,
// sorted, then what was read from the body.
header('Content-Type: text/plain');
ksort($_SERVER);
foreach ($_SERVER as $k => $v)
	if (is_string($v))
		echo "$k=", strtr($v, "\n", ' '), "\n";
echo 'BODY_BYTES=', strlen(file_get_contents('php://input')), "\n";
