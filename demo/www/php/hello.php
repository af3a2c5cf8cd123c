<?php
// hello.php: a PHP page through php-fpm, cacheable for a minute
header('Cache-Control: public, max-age=60');
header('Content-Type: text/plain');
printf("hello from PHP %s at %s\n", PHP_VERSION, gmdate('H:i:s'));
