package policy

import "fmt"

// The client-visible messages of contract/REST.md §2, byte for byte.
const (
	MsgSecretRequired     = "Forbidden. This action requires a Secret Key (sk_live_...)."
	MsgUsersBlocked       = "Use /api/userAuth endpoints for users collection operations."
	MsgCollectionNotFound = "Collection not found"
	MsgPrivateReadAuth    = "Provide a valid user Bearer token for private reads."
	MsgUnsupportedMode    = "Unsupported RLS mode"
	MsgRLSDisabled        = "Enable RLS for this collection to allow publishable-key writes."
	MsgWriteAuth          = "Provide a valid user Bearer token for write operations."
	MsgInsertOwnerID      = "RLS ownerField '_id' is not valid for insert ownership checks."
	MsgEmptyArray         = "Request body cannot be an empty array."
	MsgInvalidID          = "Invalid ID format."
	MsgDocumentNotFound   = "Document not found."
	MsgNotYourDocument    = "You can only modify your own document."
)

// MsgItemNotObject is the §2.7 row 9 message for item i.
func MsgItemNotObject(i int) string {
	return fmt.Sprintf("Item at index %d must be a valid object", i)
}

// MsgOwnerMismatch is the §2.7 row 11 message for item i.
func MsgOwnerMismatch(i int, ownerField string) string {
	return fmt.Sprintf("Item at index %d must have %s equal to your user id", i, ownerField)
}

// MsgOwnerImmutable is the §2.7 row 16 message.
func MsgOwnerImmutable(ownerField string) string {
	return ownerField + " cannot be changed under RLS."
}
