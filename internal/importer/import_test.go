package importer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/dbtest"
	"github.com/contacthub/contacthub/internal/importer"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const customersCSV = "external_id,name,phone,email,company\n" +
	"C1,王芳,138 0013 8000,\"\"\"Wang\"\" <Wang.Fang@Example.com>\",ACME\n" +
	"C2,Li Wei,+86 10 6552 9988,li.wei@example.com,\n" +
	"C3,Bad Phone,12,x@example.com,\n" +
	"C4,Too,Many,Columns,x,y\n" +
	"C5,Zhang Min,0086 137 0013 7000,,\n" +
	"C6,Bad \xff UTF8,,,\n"

const ordersCSV = "external_id,customer_external_id,amount,ordered_at,margin,currency,paid_on_time\n" +
	"O1,C1,100.50,2025-01-02,20,CNY,yes\n" +
	"O2,C1,50,2025-02-03T10:00:00+08:00,,,\n" +
	"O3,C2,10,2025-13-01,,,\n" +
	"O4,C2,-5,2025-01-01,,,\n" +
	"O5,NOPE,10,2025-01-01,,,\n" +
	"O6,C2,7,2025-01-01\n" +
	"O7,C5,12.5,2024-12-31,,usd,0\n"

func TestImport(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ctx := context.Background()
	im := &importer.Importer{Store: st, Norm: customer.Normalizer{Region: "CN"}}
	rep, err := im.Customers(ctx, strings.NewReader(customersCSV))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 6 || rep.Inserted != 3 || len(rep.Rejected) != 3 {
		t.Fatalf("customers report: %+v", rep)
	}
	for i, want := range []struct {
		row  int
		word string
	}{{4, "phone"}, {5, "column count"}, {7, "UTF-8"}} {
		if rep.Rejected[i].Row != want.row || !strings.Contains(rep.Rejected[i].Reason, want.word) {
			t.Errorf("rejected[%d] = %+v, want row %d about %s", i, rep.Rejected[i], want.row, want.word)
		}
	}
	rep, err = im.Orders(ctx, strings.NewReader(ordersCSV))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 7 || rep.Inserted != 3 || len(rep.Rejected) != 4 {
		t.Fatalf("orders report: %+v", rep)
	}
	for i, want := range []struct {
		row  int
		word string
	}{{4, "date"}, {5, "negative"}, {6, "unknown customer"}, {7, "column count"}} {
		if rep.Rejected[i].Row != want.row || !strings.Contains(rep.Rejected[i].Reason, want.word) {
			t.Errorf("rejected[%d] = %+v, want row %d about %s", i, rep.Rejected[i], want.row, want.word)
		}
	}
	// Idempotent: a second run changes nothing.
	rep, err = im.Customers(ctx, strings.NewReader(customersCSV))
	if err != nil || rep.Inserted != 0 || rep.Updated != 0 {
		t.Fatalf("re-import customers: %+v %v", rep, err)
	}
	rep, err = im.Orders(ctx, strings.NewReader(ordersCSV))
	if err != nil || rep.Inserted != 0 || rep.Updated != 0 {
		t.Fatalf("re-import orders: %+v %v", rep, err)
	}
	var n int
	var phone, email string
	st.Pool.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&n)
	st.Pool.QueryRow(ctx, `SELECT p.value, e.value FROM identities p JOIN identities e USING (customer_id)
		WHERE p.kind = 'phone' AND e.kind = 'email' AND p.customer_id = (SELECT id FROM customers WHERE external_id = 'C1')`).Scan(&phone, &email)
	if n != 3 || phone != "+8613800138000" || email != "wang.fang@example.com" {
		t.Fatalf("orders %d, phone %q, email %q", n, phone, email)
	}
	// A changed name is an update.
	rep, err = im.Customers(ctx, strings.NewReader("external_id,name,phone,email\nC2,Li Wei 李伟,,\n"))
	if err != nil || rep.Updated != 1 {
		t.Fatalf("update: %+v %v", rep, err)
	}
}

func TestBadHeader(t *testing.T) {
	t.Parallel()
	im := &importer.Importer{}
	if _, err := im.Customers(context.Background(), strings.NewReader("id,name\n")); err == nil {
		t.Fatal("missing columns accepted")
	}
}
