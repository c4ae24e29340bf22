
INSERT OR REPLACE INTO prod.customers
SELECT customer_id, name, email, city, channel, created_at, ? FROM read_csv(%s, header = true, auto_detect = false,
  columns = {'customer_id': 'BIGINT', 'name': 'VARCHAR', 'email': 'VARCHAR', 'city': 'VARCHAR', 'channel': 'VARCHAR', 'created_at': 'TIMESTAMP'},
  timestampformat = '%%Y-%%m-%%dT%%H:%%M:%%SZ')
