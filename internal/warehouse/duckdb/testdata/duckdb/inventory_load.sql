
INSERT OR REPLACE INTO prod.inventory
SELECT product_id, product_name, category, unit_price, stock_quantity, updated_at, ? FROM read_csv(%s, header = true, auto_detect = false,
  columns = {'product_id': 'BIGINT', 'product_name': 'VARCHAR', 'category': 'VARCHAR', 'unit_price': 'DECIMAL(12,2)', 'stock_quantity': 'INTEGER', 'updated_at': 'TIMESTAMP'},
  timestampformat = '%%Y-%%m-%%dT%%H:%%M:%%SZ')
