<?php
// Response heads made with header() and http_response_code().
switch ($_GET['case'] ?? '') {
case 'moved':
	header('Location: https://elsewhere.test/new-place', true, 301);
	echo "moved\n";
	break;
case 'found':
	header('Location: https://elsewhere.test/found'); // PHP makes it 302
	break;
case 'created':
	header('HTTP/1.1 201 Created');
	header('X-Test: yes');
	setcookie('a', '1');
	setcookie('b', '2');
	echo "created\n";
	break;
case 'teapot':
	http_response_code(418);
	echo "short and stout\n";
	break;
case 'notfound':
	http_response_code(404);
	header('Content-Type: application/json');
	echo '{"error":"nope"}', "\n";
	break;
default:
	echo "no case\n";
}
