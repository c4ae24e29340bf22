SELECT count(*) FROM ({{SOURCE}})
