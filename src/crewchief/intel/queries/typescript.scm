(abstract_class_declaration name: (type_identifier)) @def.class
(interface_declaration name: (type_identifier)) @def.interface
(type_alias_declaration name: (type_identifier)) @def.type
(enum_declaration name: (identifier)) @def.enum
(function_signature name: (identifier)) @def.function
(method_signature name: (property_identifier)) @def.method
(abstract_method_signature name: (property_identifier)) @def.method

(type_identifier) @ref.type
(extends_clause value: (identifier) @ref.name)
(extends_clause value: (member_expression property: (property_identifier) @ref.name))
