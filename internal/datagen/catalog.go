package datagen

import (
	"slices"
	"strings"
)

// Category is one aisle of the shop: the words its product names are made
// of and the price range its products sell in, in cents. Name and price are
// drawn from the category, so a product reads like one a shop would list.
type Category struct {
	Name       string
	Qualifiers []string // adjectives or materials, first word of a name
	Items      []string // what the product is, last words of a name
	MinCents   int
	MaxCents   int
}

// Catalog is generator version 2's vocabulary, in a fixed order (generation
// draws categories by index).
var Catalog = []Category{
	{Name: "Electronics", MinCents: 999, MaxCents: 89999,
		Qualifiers: []string{"Wireless", "Bluetooth", "Smart", "Portable", "Noise-Cancelling", "USB-C", "4K", "Compact", "Rechargeable", "Pro"},
		Items:      []string{"Headphones", "Speaker", "Charger", "Power Bank", "Webcam", "Keyboard", "Mouse", "Monitor", "Earbuds", "Action Camera"}},
	{Name: "Home & Kitchen", MinCents: 499, MaxCents: 24999,
		Qualifiers: []string{"Cast Iron", "Stainless Steel", "Ceramic", "Bamboo", "Non-Stick", "Glass", "Enamel", "Copper", "Marble", "Oak"},
		Items:      []string{"Skillet", "Saucepan", "Knife Set", "Cutting Board", "Coffee Grinder", "Teapot", "Mixing Bowl", "Salt Shaker", "Dutch Oven", "Spice Rack"}},
	{Name: "Beauty", MinCents: 399, MaxCents: 8999,
		Qualifiers: []string{"Hydrating", "Organic", "Vitamin C", "Matte", "Rose", "Argan Oil", "Charcoal", "Aloe", "Unscented", "Shea"},
		Items:      []string{"Face Serum", "Lip Balm", "Night Cream", "Shampoo", "Conditioner", "Face Mask", "Body Lotion", "Eye Cream", "Cleanser", "Hand Cream"}},
	{Name: "Sports", MinCents: 799, MaxCents: 29999,
		Qualifiers: []string{"Adjustable", "Lightweight", "Foldable", "Anti-Slip", "Carbon", "Insulated", "Breathable", "Heavy-Duty", "Trail", "Training"},
		Items:      []string{"Yoga Mat", "Dumbbell", "Jump Rope", "Water Bottle", "Resistance Band", "Running Shoes", "Cycling Gloves", "Tennis Racket", "Foam Roller", "Gym Bag"}},
	{Name: "Toys", MinCents: 499, MaxCents: 12999,
		Qualifiers: []string{"Wooden", "Plush", "Magnetic", "Remote-Control", "Glow-in-the-Dark", "Musical", "Stackable", "Educational", "Mini", "Giant"},
		Items:      []string{"Building Blocks", "Teddy Bear", "Puzzle", "Race Car", "Train Set", "Dollhouse", "Robot", "Kite", "Board Game", "Xylophone"}},
	{Name: "Fashion", MinCents: 999, MaxCents: 19999,
		Qualifiers: []string{"Linen", "Leather", "Denim", "Wool", "Cotton", "Silk", "Cashmere", "Vintage", "Slim-Fit", "Oversized"},
		Items:      []string{"Shirt", "Jacket", "Scarf", "Belt", "Sneakers", "Handbag", "Beanie", "Dress", "Wallet", "Sunglasses"}},
	{Name: "Garden", MinCents: 599, MaxCents: 39999,
		Qualifiers: []string{"Solar", "Galvanised", "Terracotta", "Expandable", "Ergonomic", "Weatherproof", "Self-Watering", "Cordless", "Raised", "Hanging"},
		Items:      []string{"Planter", "Garden Hose", "Pruning Shears", "Lawn Light", "Watering Can", "Bird Feeder", "Trowel", "Hedge Trimmer", "Seed Tray", "Compost Bin"}},
	{Name: "Pets", MinCents: 299, MaxCents: 14999,
		Qualifiers: []string{"Chew-Proof", "Orthopedic", "Reflective", "Retractable", "Grain-Free", "Interactive", "Washable", "Elevated", "Catnip", "Waterproof"},
		Items:      []string{"Dog Bed", "Cat Tree", "Leash", "Collar", "Pet Bowl", "Scratching Post", "Dog Treats", "Litter Box", "Chew Toy", "Pet Carrier"}},
}

// CategoryNamed returns the catalog entry of a category name.
func CategoryNamed(name string) (Category, bool) {
	i := slices.IndexFunc(Catalog, func(c Category) bool { return c.Name == name })
	if i < 0 {
		return Category{}, false
	}
	return Catalog[i], true
}

// Describes reports whether a product name is made of this category's
// words: one of its qualifiers, then one of its items.
func (c Category) Describes(name string) bool {
	for _, q := range c.Qualifiers {
		if rest, ok := strings.CutPrefix(name, q+" "); ok && slices.Contains(c.Items, rest) {
			return true
		}
	}
	return false
}

// draw picks a product of the category with intRange (the generator's
// deterministic source): a name not yet in seen while the vocabulary has
// one, and a shelf price ending in .99 within the category's range.
func (c Category) draw(intRange func(lo, hi int) int, seen map[string]bool) (string, int) {
	var name string
	for try := 0; try < 8; try++ {
		name = c.Qualifiers[intRange(0, len(c.Qualifiers)-1)] + " " + c.Items[intRange(0, len(c.Items)-1)]
		if !seen[name] {
			break
		}
	}
	seen[name] = true
	return name, intRange((c.MinCents+1)/100, (c.MaxCents+1)/100)*100 - 1
}
